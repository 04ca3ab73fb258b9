module egmc.dev/egmc/tools/precommit

go 1.26.8
