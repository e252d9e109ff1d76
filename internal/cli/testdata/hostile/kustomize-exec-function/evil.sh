#!/bin/sh
# Never run: proves that kubegate does not execute KRM functions.
touch "$(dirname "$0")/PWNED"
cat
