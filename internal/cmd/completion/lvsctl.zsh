#compdef lvsctl
# zsh completion for lvsctl, printed by "lvsctl completion zsh": save it as
# _lvsctl in a directory of $fpath. lvsctl itself finds the candidates:
# this runs it with the words before the cursor, the word under it and
# --generate-bash-completion, and reads one candidate a line
# ("word<TAB>description"), or ":file" / ":dir" to complete file or
# directory names here.
_lvsctl() {
	local -a lines cands
	local line word desc directive=
	lines=("${(@f)$(${words[1]} "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" --generate-bash-completion 2>/dev/null)}")
	for line in "${lines[@]}"; do
		case $line in
		'') ;;
		:file) directive=file ;;
		:dir) directive=dir ;;
		*)
			word=${line%%$'\t'*}
			word=${word//:/\\:}
			if [[ $line == *$'\t'* ]]; then
				desc=${line#*$'\t'}
				cands+=("$word:$desc")
			else
				cands+=("$word")
			fi
			;;
		esac
	done
	case $directive in
	file)
		[[ $PREFIX == -*=* ]] && compset -P '*='
		_files
		;;
	dir)
		[[ $PREFIX == -*=* ]] && compset -P '*='
		_files -/
		;;
	*)
		(( ${#cands} )) && _describe -t values lvsctl cands
		;;
	esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_lvsctl "$@"
else
	compdef _lvsctl lvsctl
fi
