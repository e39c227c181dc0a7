# zsh -f zsh_complete.zsh DIR LINE [DUMP]
# Prints the completions zsh offers for LINE (typed, then TAB), one per line,
# with the completion functions of DIR first on fpath. An interactive zsh runs
# in a pseudo-terminal (zsh/zpty); compadd is wrapped to print each match, and
# the first completion ends it. Exit status 0 once completion has run.
# DUMP: compinit's cache file, which makes later runs faster.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1= PROMPT= RPROMPT=; unsetopt zle_bracketed_paste 2>/dev/null"
if [[ -n $3 ]]; then
  zpty -w z "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)3}"
else
  zpty -w z "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
fi
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' insert-tab false"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __hits; builtin compadd -A __hits "$@"; local __h; for __h in $__hits; do print -r -- $'"'"'\x01'"'"'$__h; done; builtin compadd "$@"; }'
zpty -w z 'comppostfuncs=(__ppool_done); __ppool_done() { print -r -- $'"'"'\x02'"'"'; exit; }'
zpty -w -n z "$2"$'\t'
local line
while zpty -r z line; do
  line=${line%$'\r'}
  line=${line%$'\n'}
  line=${line%$'\r'}
  [[ $line == *$'\x02'* ]] && exit 0
  [[ $line == *$'\x01'* ]] && print -r -- ${line##*$'\x01'}
done
exit 4
