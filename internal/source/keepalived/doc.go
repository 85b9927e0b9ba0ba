// Package keepalived reads a keepalived.conf as keepalived does, and
// builds the configuration it means for lvsctl: the IPVS table
// keepalived's checker sets up at start (every real server up), with the
// health checks, sorry servers, quorums, VIPs and the failover pair beside
// it, as a model.Config.
//
// It is one of lvsctl's configuration sources (see package model):
// [File.Config] gives what the file means, the same configuration its
// conversion to HCL gives, and [File.Convert] adds what config.Write needs
// to write that conversion, with a "# NOTE:" for each setting that is not
// carried as keepalived has it, and why.
//
// The grammar is keepalived's (lib/parser.c): lines of blank-separated
// words, "!" or "#" starting a comment anywhere outside double quotes
// ("\!" and "\#" being the characters), a double-quoted word running to
// the next quote, braces opening and closing blocks wherever they are on a
// line, include lines with glob(3) patterns resolved from the directory of
// the including file, "@ID" lines for one config id, and keepalived's
// parameters: $NAME=value definitions (multiline ones too), $NAME and
// ${NAME} substitutions and ~SEQ lines, expanded as keepalived's read_line
// expands them, within bounds (see [MaxExpansion]); ~LST lines, $_RANDOM
// and ${_ENV NAME} are refused with an error.
//
// keepalived logs most configuration mistakes and goes on with a default;
// where that default decides the table (no protocol is UDP, no lb_algo is
// wlc, no lb_kind is NAT, ports reset in DR), lvsctl applies it and notes
// it. A keyword keepalived does not have, a value it would refuse, or one
// lvsctl cannot carry safely is an error at its file, line and column.
// Reading is bounded: see [MaxSize] and the other limits.
package keepalived
