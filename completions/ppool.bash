# bash completion for ppool(1).                           -*- shell-script -*-
# Keep these tables in step with docs/cli-contract.md and man/ppool.1.

_ppool_modes='map imap imap-unordered unordered apply tasks'
# Options that take a value, then options that do not.
_ppool_value_opts='-j --processes -c --chunksize -a --input -t --task --timeout
    --initializer --init-task --initargs --max-tasks-per-worker --format --plugin'
_ppool_flag_opts='-0 --null --json --fail-fast --help'

_ppool()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local word i task=
    COMPREPLY=()
    # "--opt=value" reaches us as three words: "--opt" "=" "value".
    [[ $cur == = ]] && cur=
    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD-2]}

    # The first word is the mode.
    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$_ppool_modes --help --version" -- "$cur"))
        return
    fi
    if [[ ${COMP_WORDS[1]} == tasks ]]; then
        COMPREPLY=($(compgen -W '--help' -- "$cur"))
        return
    fi

    # The value of an option.
    case $prev in
    -t | --task | --init-task)
        COMPREPLY=($(compgen -W "$(ppool tasks 2>/dev/null | cut -f1 -d' ')" -- "$cur"))
        return ;;
    --format)
        COMPREPLY=($(compgen -W 'text json' -- "$cur"))
        return ;;
    -a | --input | --plugin)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    -j | --processes | -c | --chunksize | --timeout | --initializer | --initargs | --max-tasks-per-worker)
        return ;;
    esac

    # Options end at "--" or at the first word that is not an option: the
    # command (complete a program name, then files) or apply's item (a file).
    for ((i = 2; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ $word == -t || $word == --task ]] && task=1
        if [[ $word == -- || $word != -* ]]; then
            [[ $word == -- ]] && ((i++))
            break
        fi
        if [[ " ${_ppool_value_opts//$'\n'/ } " == *" $word "* ]]; then
            ((i++))
            [[ ${COMP_WORDS[i]} == = ]] && ((i++))
        fi
    done

    if ((i >= COMP_CWORD)) && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_ppool_value_opts $_ppool_flag_opts --" -- "$cur"))
        return
    fi
    compopt -o filenames 2>/dev/null
    if ((i >= COMP_CWORD)) && [[ -z $task ]]; then
        COMPREPLY=($(compgen -c -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _ppool ppool
