# bash completion for ppool(1).                           -*- shell-script -*-
# The option tables follow `ppool MODE --help`; the tests check they match.

_ppool_modes='map imap imap-unordered unordered apply tasks'
# ppool serve and its client commands (ppool serve --help, ppool get --help).
_ppool_server_commands='serve submit get wait ready successful close terminate join status'
# Options of every pool mode (map, imap, imap-unordered, apply): those that
# take a value, then flags.
_ppool_pool_value_opts='-j --processes --initializer --init-task --initargs --max-tasks-per-worker --launcher
    -S --sshlogin --sshloginfile --ssh --remote-ppool --transferfile --return --trc -t --task --timeout
    --shell --env --plugin --format'
_ppool_pool_flag_opts='--slurm --transfer --cleanup -q --quote --json -h --help --server'
# Options only of the modes that take items (map, imap, imap-unordered).
_ppool_item_value_opts='-c --chunksize -a --input --max-item-size --joblog --retries
    -C --colsep --header --block --recstart --recend -N --max-replace-args -n --max-args
    -s --max-chars -I --tagstring --results'
_ppool_item_flag_opts='-0 --null --pipe --tag --line-buffer -u --ungroup --fail-fast --resume --dry-run --progress --bar --eta
    --link --csv --pipepart -m -X'
# Halting and pacing, as GNU parallel spells them.
_ppool_item_value_opts+=' --halt --delay --load --memfree'

# The options of serve and the client commands, and their values.
_ppool_server()
{
    local mode=$1 cur=$2 prev=$3 opts='--server -h --help'
    case $prev in
    --socket | --server | --sshloginfile)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --init-task | --task | -t)
        COMPREPLY=($(compgen -W "$(ppool tasks 2>/dev/null | cut -f1 -d' ')" -- "$cur"))
        return ;;
    -j | --processes | --initializer | --initargs | --timeout | --launcher | --max-held | -S | --sshlogin | --ssh | \
        --remote-ppool)
        return ;;
    esac
    case $mode in
    serve) opts='-j --processes --initializer --init-task --initargs --launcher -S --sshlogin --sshloginfile --ssh
        --remote-ppool --max-held --socket --foreground -h --help' ;;
    submit) opts='--server -t --task -h --help' ;;
    get | wait) opts='--server --timeout -h --help' ;;
    status) opts='--server --json -h --help' ;;
    esac
    [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

_ppool()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local mode=${COMP_WORDS[1]} word i task= value_opts flag_opts
    COMPREPLY=()
    # "--opt=value" reaches us as three words: "--opt" "=" "value".
    [[ $cur == = ]] && cur=
    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD-2]}

    # The first word is the mode.
    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$_ppool_modes $_ppool_server_commands -h --help --version" -- "$cur"))
        return
    fi
    case $mode in
    serve | submit | get | wait | ready | successful | close | terminate | join | status)
        _ppool_server "$mode" "$cur" "$prev"
        return ;;
    tasks)
        value_opts='--plugin' flag_opts='-h --help' ;;
    apply)
        value_opts=$_ppool_pool_value_opts flag_opts=$_ppool_pool_flag_opts ;;
    map | imap | imap-unordered | unordered)
        value_opts="$_ppool_pool_value_opts $_ppool_item_value_opts"
        flag_opts="$_ppool_pool_flag_opts $_ppool_item_flag_opts" ;;
    *)
        return ;;
    esac
    value_opts=${value_opts//$'\n'/ }
    flag_opts=${flag_opts//$'\n'/ }

    # The value of an option.
    case $prev in
    -t | --task | --init-task)
        COMPREPLY=($(compgen -W "$(ppool tasks 2>/dev/null | cut -f1 -d' ')" -- "$cur"))
        return ;;
    --format)
        COMPREPLY=($(compgen -W 'text json' -- "$cur"))
        return ;;
    --progress)
        # Only "--progress=WHEN": a separate word would start the command.
        if [[ ${COMP_WORDS[COMP_CWORD-1]} == = ]]; then
            COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
            return
        fi ;;
    -a | --input | --plugin | --joblog | --sshloginfile | --transferfile | --return | --trc)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    -j | --processes | -c | --chunksize | --timeout | --initializer | --initargs | \
        --max-tasks-per-worker | --retries | --max-item-size | -S | --sshlogin | --ssh | --remote-ppool)
        return ;;
    --shell)
        COMPREPLY=($(compgen -c -- "$cur"))
        return ;;
    --env)
        COMPREPLY=($(compgen -v -A function -- "$cur"))
        return ;;
    -C | --colsep | --header | --block | --block-size | --recstart | --recend | -N | --max-replace-args | \
        -n | --max-args | -s | --max-chars | -I)
        return ;;
    --halt)
        COMPREPLY=($(compgen -W 'now,fail=1 soon,fail=1 now,success=1 soon,success=1 now,done=1 soon,done=1' \
            -- "$cur"))
        return ;;
    --delay | --load | --memfree)
        return ;;
    --launcher)
        COMPREPLY=($(compgen -W 'fork exec' -- "$cur"))
        return ;;
    esac

    # Options end at "--" or at the first word that is not an option: the
    # command (complete a program name, then files) or apply's item (a file).
    # Items after ":::" and the files after "::::" are files too.
    for ((i = 2; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ $word == -t || $word == --task ]] && task=1
        if [[ $word == -- || $word != -* ]]; then
            [[ $word == -- ]] && ((i++))
            break
        fi
        if [[ ${COMP_WORDS[i+1]} == = ]]; then
            ((i += 2))
        elif [[ " $value_opts " == *" $word "* ]]; then
            ((i++))
        fi
    done

    if ((i >= COMP_CWORD)) && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$value_opts $flag_opts --" -- "$cur"))
        return
    fi
    [[ $mode == tasks ]] && return
    compopt -o filenames 2>/dev/null
    if ((i >= COMP_CWORD)) && [[ -z $task ]]; then
        COMPREPLY=($(compgen -c -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _ppool ppool
