//go:build !linux

package cmd

import "errors"

func readLoopback() (loState, error) { return loState{}, errors.New("not Linux") }
