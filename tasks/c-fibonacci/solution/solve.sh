#!/bin/bash
set -euo pipefail
cat > /app/fib.c <<'C'
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    char *end;
    long n;
    if (argc != 2) {
        fprintf(stderr, "usage: fib N (0 <= N <= 90)\n");
        return 2;
    }
    n = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || n < 0 || n > 90) {
        fprintf(stderr, "fib: N must be a whole number from 0 to 90\n");
        return 2;
    }
    unsigned long long a = 0, b = 1;
    for (long i = 0; i < n; i++) {
        unsigned long long next = a + b;
        a = b;
        b = next;
    }
    printf("%llu\n", a);
    return 0;
}
C
gcc -O2 -Wall -o /app/fib /app/fib.c
/app/fib 10
