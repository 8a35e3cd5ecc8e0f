#!/bin/sh
# redis: start redis-server on a unix socket in the current (scratch) directory, drive it
# with redis-benchmark (20 connections, pipelined SET/GET/LPUSH/LPOP of 256-byte values
# over a keyspace that grows as it runs), stop the server, and print each test's rate,
# then `requests_per_s: N`: the total requests over the total time of the tests.
# Exits non-zero when the server does not come up or the benchmark fails; the server is
# stopped however the script ends, short of SIGKILL (the runner kills the group then).
set -u

requests=100000
tests=set,get,lpush,lpop

# No TCP port and no persistence: nothing leaves the scratch directory.
redis-server --port 0 --unixsocket ./redis.sock --unixsocketperm 700 --save '' \
  --appendonly no --daemonize no --logfile ./redis.log &
server=$!

stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    redis-cli -s ./redis.sock shutdown nosave >/dev/null 2>&1
    i=0
    while kill -0 "$server" 2>/dev/null && [ "$i" -lt 50 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -KILL "$server" 2>/dev/null
  fi
  wait "$server" 2>/dev/null
}
trap stop_server EXIT
# A signal ends the script through exit, so the EXIT trap stops the server.
trap 'exit 130' INT TERM HUP

i=0
until [ "$(redis-cli -s ./redis.sock ping 2>/dev/null)" = PONG ]; do
  i=$((i + 1))
  if [ "$i" -gt 100 ] || ! kill -0 "$server" 2>/dev/null; then
    echo "redis: the server did not come up within 10 s" >&2
    tail -n 20 ./redis.log >&2 2>/dev/null
    exit 1
  fi
  sleep 0.1
done

# Pipelining puts the time into the work on both sides (and its allocations) rather than
# into a system call per request. One client thread: with --threads, redis-benchmark
# times each test in 250 ms steps.
if ! redis-benchmark -s ./redis.sock --csv -n "$requests" -c 20 -P 16 -r 200000 -d 256 \
  -t "$tests" >bench.csv 2>bench.err; then
  echo "redis: redis-benchmark failed" >&2
  cat bench.err >&2
  exit 1
fi

# bench.csv: a header, then "TEST","rps",... per test.
awk -F'"' -v requests="$requests" -v expected=4 '
  NR > 1 && $4 + 0 > 0 { printf "%s: %s requests per second\n", $2, $4; n++; t += requests / $4 }
  END {
    if (n != expected) { print "redis: expected " expected " rates, got " n + 0 > "/dev/stderr"; exit 1 }
    printf "requests_per_s: %.1f\n", n * requests / t
  }' bench.csv
