#!/usr/bin/env bash
# Install the Debian package that make deb built on this machine, check
# it as an administrator would, and remove it: .ci/run runs this as root
# after make deb. It refuses to touch an lvsctl package that was installed
# before it ran, and purges its own on any exit.
#
#   scripts/deb-test.sh build/lvsctl_VERSION_ARCH.deb VERSION
set -euo pipefail

deb=${1:?usage: scripts/deb-test.sh DEB VERSION}
version=${2:?usage: scripts/deb-test.sh DEB VERSION}

fail() {
	echo "deb-test: $*" >&2
	exit 1
}
if [[ $(id -u) -ne 0 ]]; then
	fail "run me as root: I install and remove $deb"
fi
if dpkg-query -W -f='${Status}' lvsctl 2>/dev/null | grep -q 'installed'; then
	fail "an lvsctl package is installed already; remove it first (dpkg -r lvsctl)"
fi
trap 'dpkg -P lvsctl >/dev/null 2>&1 || true' EXIT

echo "deb-test: dpkg -i $deb"
dpkg -i "$deb"

# The binary, stamped with the version of the package.
got=$(dpkg-query -W -f='${Version}' lvsctl)
[[ $got == "$version" ]] || fail "the package's version is $got, not $version"
# The version command comes with issue 13's CLI work; --version is
# urfave/cli's.
if lvsctl version >/dev/null 2>&1; then
	out=$(lvsctl version)
	echo "deb-test: lvsctl version: $out"
	grep -qF -- "$version" <<<"$out" || fail "lvsctl version does not say $version"
fi
out=$(lvsctl --version)
echo "deb-test: lvsctl --version: $out"
grep -qF -- "$version" <<<"$out" || fail "lvsctl --version does not say $version"

# The man pages, where man finds them.
for page in lvsctl lvsctl-plan lvsctl-apply lvsctl-pulse-status; do
	path=$(man -w "$page") || fail "man -w $page finds nothing"
	[[ $path == /usr/share/man/man1/$page.1.gz ]] || fail "man -w $page: $path"
done
MANWIDTH=80 man "lvsctl-plan" 2>&1 | grep -q -- '--detailed-exitcode' || fail "man lvsctl-plan lacks --detailed-exitcode"

# The example configuration: a conffile, valid, and what -f reads unless
# told otherwise.
dpkg-query -W -f='${Conffiles}\n' lvsctl | grep -q '^ /etc/lvsctl/lvsctl.hcl ' || fail "/etc/lvsctl/lvsctl.hcl is not a conffile"
lvsctl validate || fail "the packaged /etc/lvsctl/lvsctl.hcl does not validate"

# The units: systemd accepts them as installed (the ExecStart= binary is
# there now), and the package enabled and started nothing.
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/lvsctl-check.service /usr/lib/systemd/system/lvsctl-pulse.service 2>&1) ||
		fail "systemd-analyze verify: $out"
	[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
fi
for unit in lvsctl-check.service lvsctl-pulse.service; do
	state=$(systemctl is-enabled "$unit" 2>/dev/null || true)
	[[ $state == disabled ]] || fail "$unit is $state after installation, not disabled"
	if [[ -d /run/systemd/system ]] && systemctl is-active --quiet "$unit"; then
		fail "$unit runs after installation"
	fi
done
if compgen -G '/etc/systemd/system/*.wants/lvsctl-*' >/dev/null; then
	fail "the package enabled a unit: $(echo /etc/systemd/system/*.wants/lvsctl-*)"
fi

# The completions, where the shells look for them.
out=$(bash --norc --noprofile -c 'source /usr/share/bash-completion/completions/lvsctl
COMP_WORDS=(lvsctl pl); COMP_CWORD=1; _lvsctl; echo "${COMPREPLY[@]}"')
[[ $out == plan ]] || fail "bash completion of \"lvsctl pl\": $out"
if command -v fish >/dev/null; then
	# Not --no-config, which empties fish_complete_path; an empty home
	# keeps the user's configuration out.
	home=$(mktemp -d)
	out=$(HOME=$home XDG_CONFIG_HOME=$home XDG_DATA_HOME=$home fish -c 'complete -C "lvsctl pl"' | cut -f1)
	rm -rf "$home"
	[[ $out == plan ]] || fail "fish completion of \"lvsctl pl\" from vendor_completions.d: $out"
fi
if command -v zsh >/dev/null; then
	zsh -f -c 'fpath=(/usr/share/zsh/vendor-completions $fpath); autoload -U compinit && compinit -u -D; [[ $_comps[lvsctl] == _lvsctl ]]' ||
		fail "zsh's compinit does not find _lvsctl in /usr/share/zsh/vendor-completions"
fi

# A reinstallation keeps the administrator's changes to the conffile.
echo '# changed by deb-test' >>/etc/lvsctl/lvsctl.hcl
dpkg -i "$deb"
grep -q '^# changed by deb-test$' /etc/lvsctl/lvsctl.hcl || fail "reinstalling replaced the changed /etc/lvsctl/lvsctl.hcl"

echo "deb-test: dpkg -r lvsctl"
dpkg -r lvsctl
[[ ! -e /usr/sbin/lvsctl ]] || fail "/usr/sbin/lvsctl is left after dpkg -r"
[[ -e /etc/lvsctl/lvsctl.hcl ]] || fail "dpkg -r removed the conffile, which only a purge does"
dpkg -P lvsctl
[[ ! -e /etc/lvsctl/lvsctl.hcl ]] || fail "/etc/lvsctl/lvsctl.hcl is left after dpkg -P"
echo "deb-test: $deb installed, checked and removed"
