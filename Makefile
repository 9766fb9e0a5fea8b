# Shortcuts for the two scripts the README starts with (make is optional).
.PHONY: run test

run:
	scripts/run.sh

test:
	scripts/test.sh
