.PHONY: run test
# Set up what is missing, build, migrate ./data/quizfunnel.db and serve on
# http://127.0.0.1:3000.
run:
	scripts/run.sh
# Set up what is missing and run every test.
test:
	scripts/test.sh
