# bash completion for lvsctl, printed by "lvsctl completion bash".
# lvsctl itself finds the candidates: this runs it with the words before
# the cursor, the word under it and --generate-bash-completion, and reads
# one candidate a line ("word<TAB>description"), or ":file" / ":dir" to
# complete file or directory names here.
_lvsctl() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local -a words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
	# bash splits "--file=x" into "--file" "=" "x"; on "--file=" the
	# word under the cursor is "=" itself.
	if [[ $cur == "=" ]]; then
		words+=("=")
		cur=
	fi
	local out line directive=
	out=$("${COMP_WORDS[0]}" "${words[@]}" "$cur" --generate-bash-completion 2>/dev/null) || return 0
	COMPREPLY=()
	while IFS= read -r line; do
		case $line in
		"") ;;
		:file) directive=file ;;
		:dir) directive=dir ;;
		*) COMPREPLY+=("${line%%$'\t'*}") ;;
		esac
	done <<<"$out"
	case $directive in
	file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	esac
	return 0
}
complete -F _lvsctl lvsctl
