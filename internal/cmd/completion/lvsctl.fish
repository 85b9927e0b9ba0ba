
# The values of flags that take one of a few words or a network
# namespace, and the arguments of commands: lvsctl finds them when run
# with the words before the cursor, the word under it and
# --generate-bash-completion (one candidate a line, "word<TAB>description";
# ":file" asks for file names).
function __lvsctl_complete
    set -l tokens (commandline -opc)
    set -l out ($tokens[1] $tokens[2..-1] (commandline -ct) --generate-bash-completion 2>/dev/null)
    for line in $out
        switch $line
            case :file
                __fish_complete_path (commandline -ct)
            case ':*'
            case '*'
                echo $line
        end
    end
end
