# Shortcuts; the scripts in .ci/ do the work (and install what is missing).
.PHONY: run test bench build
run:
	bash .ci/app
test:
	bash .ci/test
bench:
	bash .ci/bench
build:
	go build -o mailmover .
