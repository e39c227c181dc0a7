# fish completion for ppool(1).
# Keep these tables in step with docs/cli-contract.md and man/ppool.1.

set -l modes map imap imap-unordered unordered apply tasks
set -l no_mode "not __fish_seen_subcommand_from $modes"
set -l value_opts -j --processes -c --chunksize -a --input -t --task --timeout \
    --initializer --init-task --initargs --max-tasks-per-worker --format --plugin
set -l pool "__fish_seen_subcommand_from map imap imap-unordered unordered apply"
set -l opts "$pool; and not __ppool_command_started $value_opts"

function __ppool_tasks
    ppool tasks 2>/dev/null | string replace -r '^(\S+)\s+' '$1\t'
end

# Whether the options have ended before the current token: at "--" or at the
# first word after the mode that is neither an option nor an option's value.
function __ppool_command_started
    set -l words (commandline -opc)
    set -e words[1..2]
    while set -q words[1]
        switch $words[1]
            case --
                return 0
            case '-*'
                contains -- $words[1] $argv; and set -e words[1]
            case '*'
                return 0
        end
        set -e words[1]
    end
    return 1
end

complete -c ppool -f

# Modes
complete -c ppool -n $no_mode -a map -d 'All results in input order at the end'
complete -c ppool -n $no_mode -a imap -d 'Stream results in input order'
complete -c ppool -n $no_mode -a imap-unordered -d 'Stream results in completion order'
complete -c ppool -n $no_mode -a unordered -d 'Alias of imap-unordered'
complete -c ppool -n $no_mode -a apply -d 'Run one task in a pool worker'
complete -c ppool -n $no_mode -a tasks -d 'List the registered tasks'
complete -c ppool -n $no_mode -l version -d 'Show the version'
complete -c ppool -n "not __ppool_command_started $value_opts" -l help -d 'Show help'

# Options of the pool modes
complete -c ppool -n $opts -s j -l processes -x -d 'Number of worker processes'
complete -c ppool -n $opts -s c -l chunksize -x -d 'Items sent to a worker at a time'
complete -c ppool -n $opts -s a -l input -r -F -d 'Read the items from a file (- is stdin)'
complete -c ppool -n $opts -l plugin -r -F -d 'Load tasks from a plugin (shared library)'
complete -c ppool -n $opts -s 0 -l null -d 'Items are NUL-separated'
complete -c ppool -n $opts -s t -l task -x -a '(__ppool_tasks)' -d 'Registered task instead of a command'
complete -c ppool -n $opts -l timeout -x -d 'Per-task time limit in seconds'
complete -c ppool -n $opts -l initializer -x -d 'Shell command each worker runs once at start'
complete -c ppool -n $opts -l init-task -x -a '(__ppool_tasks)' -d 'Registered task each worker runs once at start'
complete -c ppool -n $opts -l initargs -x -d 'Argument of the --init-task initializer'
complete -c ppool -n $opts -l max-tasks-per-worker -x -d 'Replace a worker after this many tasks'
complete -c ppool -n $opts -l format -x -a 'text json' -d 'Output format'
complete -c ppool -n $opts -l json -d 'JSON output (--format json)'
complete -c ppool -n $opts -l fail-fast -d 'Stop at the first failure'

# The command a pool mode runs, and its arguments
complete -c ppool -n $pool -a "(__fish_complete_subcommand --fcs-skip=2 $value_opts)"
