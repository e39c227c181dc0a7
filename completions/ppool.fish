# fish completion for ppool(1).
# The option tables follow `ppool MODE --help`; the tests check they match.

set -l modes map imap imap-unordered unordered apply tasks serve submit get wait ready successful close terminate join status
set -l no_mode "not __fish_seen_subcommand_from $modes"
set -l value_opts -j --processes -c --chunksize -a --input -t --task --timeout --shell --env \
    --initializer --init-task --initargs --max-tasks-per-worker --launcher --format --plugin \
    -S --sshlogin --sshloginfile --ssh --remote-ppool --transferfile --return --trc \
    --max-item-size --joblog --retries \
    -C --colsep --header --block --recstart --recend -N --max-replace-args -n --max-args \
    -s --max-chars -I
set -a value_opts --halt --delay --load --memfree
# Where options are completed: after a mode, before the command starts.
set -l opts "not __ppool_command_started $value_opts"
set -l pool "__fish_seen_subcommand_from map imap imap-unordered unordered apply; and $opts"
set -l items "__fish_seen_subcommand_from map imap imap-unordered unordered; and $opts"
set -l tasks "__fish_seen_subcommand_from tasks; and $opts"

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
complete -c ppool -n $no_mode -a map -d 'All results in input order once all succeeded'
complete -c ppool -n $no_mode -a imap -d 'Stream the results in input order'
complete -c ppool -n $no_mode -a imap-unordered -d 'Stream the results in completion order'
complete -c ppool -n $no_mode -a unordered -d 'Alias of imap-unordered'
complete -c ppool -n $no_mode -a apply -d 'Run one task in a pool worker'
complete -c ppool -n $no_mode -a tasks -d 'List the registered tasks'
complete -c ppool -n $no_mode -a serve -d 'Start a pool whose workers stay warm for many commands'
complete -c ppool -n $no_mode -a submit -d 'Queue a command or task on the server, print its job id'
complete -c ppool -n $no_mode -a get -d "Print a job's result once it is ready"
complete -c ppool -n $no_mode -a wait -d 'Wait until a job is ready'
complete -c ppool -n $no_mode -a ready -d 'Whether a job is ready'
complete -c ppool -n $no_mode -a successful -d 'Whether a job succeeded'
complete -c ppool -n $no_mode -a close -d 'The server takes no more jobs'
complete -c ppool -n $no_mode -a terminate -d 'Stop the server and its jobs now'
complete -c ppool -n $no_mode -a join -d 'Wait for every job, after close'
complete -c ppool -n $no_mode -a status -d 'Workers, queued, running, finished not fetched'
set -l server_commands "__fish_seen_subcommand_from serve submit get wait ready successful close terminate join status"
complete -c ppool -n "__fish_seen_subcommand_from serve" -s j -l processes -x -d 'Number of worker processes'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l initializer -x -d 'Shell command each worker runs once at start'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l init-task -x -a '(__ppool_tasks)' -d 'Registered task each worker runs once'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l initargs -x -d 'The item --init-task gets'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l socket -r -F -d 'The Unix socket'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l launcher -x -a 'fork exec' -d 'How workers start'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l max-held -x -d 'Jobs held at most, running or not fetched'
complete -c ppool -n "__fish_seen_subcommand_from serve" -s S -l sshlogin -x -d 'Run workers on a host over ssh'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l sshloginfile -r -F -d 'Read logins from FILE'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l ssh -x -d 'The ssh command and its options'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l remote-ppool -x -d 'The ppool the hosts run'
complete -c ppool -n "__fish_seen_subcommand_from serve" -l foreground -d 'Stay attached instead of detaching'
complete -c ppool -n "$server_commands; and not __fish_seen_subcommand_from serve" -l server -r -F -d "The server's socket"
complete -c ppool -n "__fish_seen_subcommand_from submit" -s t -l task -x -a '(__ppool_tasks)' -d 'Run a registered task, not a command'
complete -c ppool -n "__fish_seen_subcommand_from get wait" -l timeout -x -d 'Seconds to wait'
complete -c ppool -n "__fish_seen_subcommand_from status" -l json -d 'JSON output'
complete -c ppool -n $no_mode -l version -d 'Print the version'
complete -c ppool -n "$no_mode; or $opts" -s h -l help -d 'Print the help'

# Pool: every pool mode
complete -c ppool -n $pool -s j -l processes -x -d 'Number of worker processes'
complete -c ppool -n $items -s c -l chunksize -x -d 'Items handed to a worker at a time'
complete -c ppool -n $pool -l initializer -x -d 'Shell command each worker runs once at start'
complete -c ppool -n $pool -l launcher -x -a 'fork exec' -d 'How workers start: fork, exec, or a command'
complete -c ppool -n $pool -l server -d 'Borrow the warm workers of a ppool serve (--server=SOCKET)'
complete -c ppool -n $pool -s S -l sshlogin -x -a '(__fish_print_hostnames)' -d 'Run workers on [N/][user@]host[:port] over ssh'
complete -c ppool -n $pool -l sshloginfile -r -F -d 'Read logins from FILE, one a line'
complete -c ppool -n $pool -l ssh -x -d 'The ssh command and its options'
complete -c ppool -n $pool -l remote-ppool -r -d 'The ppool the hosts run'
complete -c ppool -n $pool -l slurm -d 'Run workers on the nodes of this Slurm allocation'
complete -c ppool -n $pool -l transfer -d 'Send the file each item names to its host first'
complete -c ppool -n $pool -l transferfile -r -F -d 'Send FILE to the host before the task'
complete -c ppool -n $pool -l return -r -F -d 'Bring FILE back from the host after the task'
complete -c ppool -n $pool -l cleanup -d 'Remove sent and returned files from the host after'
complete -c ppool -n $pool -l trc -r -F -d 'The same as --transfer --return FILE --cleanup'
complete -c ppool -n $pool -l init-task -x -a '(__ppool_tasks)' -d 'Registered task each worker runs at start'
complete -c ppool -n $pool -l initargs -x -d 'The item --init-task gets'
complete -c ppool -n $pool -l max-tasks-per-worker -x -d 'Replace a worker after N tasks'
# Task
complete -c ppool -n $pool -s t -l task -x -a '(__ppool_tasks)' -d 'Run a registered task, not a command'
complete -c ppool -n $pool -l timeout -x -d 'Per-task time limit in seconds, or N% of the median'
complete -c ppool -n $pool -l shell -x -a '(__fish_complete_command)' -d 'The shell that runs scripts'
complete -c ppool -n $pool -l env -x -a '(set -n; functions -n)' -d 'Pass a variable or bash function to every host'
complete -c ppool -n $pool -s q -l quote -d 'Shell operators among the words are arguments'
complete -c ppool -n "$pool; or $tasks" -l plugin -r -F -d 'Load tasks from a plugin'
# Input
complete -c ppool -n $items -s a -l input -r -F -d 'Read the items from a file (- is stdin)'
complete -c ppool -n $items -s 0 -l null -d 'Items are NUL-separated'
complete -c ppool -n $items -l max-item-size -x -d 'Largest item read (K, M, G suffixes)'
complete -c ppool -n $items -l pipe -d 'Write each chunk to one command\'s stdin'
complete -c ppool -n $items -l link -d 'Pair the input sources by position'
complete -c ppool -n $items -s C -l colsep -x -d 'Split items into columns {1} {2} ... at REGEX'
complete -c ppool -n $items -l header -x -d 'First line names the columns: {name}'
complete -c ppool -n $items -l csv -d 'Items are CSV records (RFC 4180)'
complete -c ppool -n $items -l block -x -d '--pipe chunks of about SIZE bytes'
complete -c ppool -n $items -l pipepart -d '--pipe from -a FILE cut by offsets'
complete -c ppool -n $items -l recstart -x -d '--pipe records start with STR'
complete -c ppool -n $items -l recend -x -d '--pipe records end with STR'
complete -c ppool -n $items -s N -l max-replace-args -x -d 'N items per command as {1} ... {N}'
complete -c ppool -n $items -s n -l max-args -x -d 'N items per command, appended'
complete -c ppool -n $items -s m -d 'As many items per command as fit one command line'
complete -c ppool -n $items -s X -d 'Like -m, the word around {} repeated for each item'
complete -c ppool -n $items -s s -l max-chars -x -d 'Longest command line for -m and -X'
complete -c ppool -n $items -s I -x -d 'STR stands for the item instead of {}'
# Output
complete -c ppool -n $pool -l format -x -a 'text json' -d 'Output format'
complete -c ppool -n $pool -l json -d 'JSON output (--format json)'
complete -c ppool -n $items -l tag -d 'Prefix output lines with the item and a TAB'
complete -c ppool -n $items -l tagstring -x -d 'Prefix output lines with STR ({} {#} ...)'
complete -c ppool -n $items -l line-buffer -d 'Write whole lines of output as they come'
complete -c ppool -n $items -s u -l ungroup -d 'Write output bytes as they come'
complete -c ppool -n $items -l results -r -F -d 'Each task\'s output in DIR or FILE.csv/tsv/json'
# Workflow
complete -c ppool -n $items -l fail-fast -d 'Stop at the first failure'
complete -c ppool -n $items -l halt -x -a 'now,fail=1 soon,fail=1 now,success=1 soon,success=1 now,done=1 soon,done=1' -d 'Stop early: now|soon,fail|success|done=N or N%'
complete -c ppool -n $items -l delay -x -d 'Start tasks at least SECS apart'
complete -c ppool -n $items -l load -x -d 'Start no task while the load is above MAX'
complete -c ppool -n $items -l memfree -x -d 'Start no task while free memory is below SIZE'
complete -c ppool -n $items -l joblog -r -F -d 'Append a line per finished task to a file'
complete -c ppool -n $items -l resume -d 'Skip items the joblog lists as done'
complete -c ppool -n $items -l retries -x -d 'Run a failed task up to N more times'
complete -c ppool -n $items -l dry-run -d 'Print what would run, run nothing'
complete -c ppool -n $items -l progress -d 'Progress line on stderr (--progress=WHEN)'
complete -c ppool -n $items -l bar -d 'Progress as a bar: percent, counts, rate, ETA'
complete -c ppool -n $items -l eta -d 'Progress line with the ETA, on stderr'
# The value of --progress, given only as --progress=WHEN.
complete -c ppool -n "$items; and string match -q -- '--progress=*' (commandline -ct)" \
    -a '--progress=auto --progress=always --progress=never' -d 'When to draw the progress line'

# The command a pool mode runs, and its arguments
complete -c ppool -n "__fish_seen_subcommand_from map imap imap-unordered unordered apply" \
    -a "(__fish_complete_subcommand --fcs-skip=2 $value_opts)"
