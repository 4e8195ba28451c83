#!/bin/sh
# The supervisor of `ductor serve` (ADR 46): a POSIX sh loop of ~1 MB instead of a ~44 MB node
# process. It starts the service, passes INT/TERM/HUP on to it and ends with its code, ends the CLI
# process groups a dead service left running (a short-lived node), and starts it again:
#   exit 0 → exit 0; 42 → at once ("ductor: restarting"); 2 (config error) and 75 (another ductor
#   holds the home, ADR 43: no clean-up either) → exit with it; anything else (a crash, a kill -9 of
#   the service alone) → again after 1 s, doubling to 30 s, giving up at the 5th crash within 5 minutes.
#
#   ductor-supervise.sh --launch NODE SCRIPT [ARGS...]
#     bin/ductor: runs `NODE SCRIPT ARGS` (commander parses them, as for any command) with
#     DUCTOR_LAUNCHER=1; when it answers "supervised serve" (exit 96, 97 with --verbose) this process
#     becomes the supervisor of `NODE SCRIPT serve --no-supervisor`; otherwise it exits with its code.
#   ductor-supervise.sh --loop COMMAND...
#     `node … ductor.js serve` started without bin/ductor (src/cli/supervise.ts): supervises COMMAND.
#
# The whole file is one function called on its last line, so the shell has read all of it before it
# runs (an upgrade that replaces this file under a running supervisor changes nothing).

ductor_supervise () {
  crash_limit=5
  crash_window_s=300
  max_backoff_s=30
  arena=2 # MALLOC_ARENA_MAX for the service (ADR 37): SERVICE_MALLOC_ARENA_MAX in src/cli/supervise.ts

  stopping= stop_signal= hungup= caught= child= sleeper=
  on_signal () {
    stopping=1 stop_signal=$1 caught=1
    [ "$1" = HUP ] && hungup=1
    # The service stops once, however many copies reach it (it got its own when the whole group was signalled).
    [ -n "$child" ] && kill -s "$1" "$child" 2>/dev/null
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    return 0
  }
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap 'on_signal HUP' HUP
  # `ductor restart` while the backoff runs (no service holds the lock): start the service now.
  # `caught` makes a `wait` for a running service that this cuts short wait again.
  trap 'caught=1; [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null' USR2

  say () { printf 'ductor: %s\n' "$1" >&2 2>/dev/null || :; }

  # A non-interactive shell gives `&` commands /dev/null as stdin: fd 9 keeps the real one for them.
  # (It also makes them ignore SIGINT and SIGQUIT; Node resets every disposition when it starts.)
  if (: <&0) 2>/dev/null; then exec 9<&0; else exec 9</dev/null; fi

  # Runs "$@" (`env VAR=… COMMAND`: env execs the command, so $! is its pid) in the background, so
  # that a trapped signal interrupts `wait` and is passed on; sets `code` to its exit status (128 + n
  # for signal n) and `pid` to its pid.
  run_child () {
    if [ -n "$stopping" ]; then code=0; return; fi
    "$@" <&9 9<&- &
    child=$!
    [ -n "$stopping" ] && kill -s "$stop_signal" "$child" 2>/dev/null
    code=
    while :; do
      caught=
      wait "$child" 2>/dev/null
      status=$?
      if [ -z "$caught" ]; then code=$status; break; fi
      # A signal came: `wait` was cut short (128 + n, the child still running or not yet reported:
      # wait again) or the child had already been reported (127 now: keep its status).
      if [ "$status" -eq 127 ] && [ -n "$code" ]; then break; fi
      code=$status
    done
    pid=$child child=
  }

  case $1 in
    --launch)
      shift
      node=$1 script=$2
      shift 2
      run_child env DUCTOR_LAUNCHER=1 "$node" "$script" "$@"
      case $code in
        96) set -- "$node" "$script" serve --no-supervisor ;;
        97) set -- "$node" "$script" serve --no-supervisor --verbose ;;
        *) exit "$code" ;;
      esac
      ;;
    --loop) shift ;;
    *) say "usage: ductor-supervise.sh --launch NODE SCRIPT [ARGS...] | --loop COMMAND..."; exit 64 ;;
  esac
  [ -n "$stopping" ] && exit 0

  # The user's MALLOC_ARENA_MAX wins; the mark tells the service to forget the one set here.
  if [ -n "${MALLOC_ARENA_MAX:-}" ]; then own_arena=1; else own_arena=; fi
  crashes=
  while :; do
    if [ -n "$own_arena" ]; then
      run_child env DUCTOR_SUPERVISED=1 "$@"
    else
      run_child env MALLOC_ARENA_MAX=$arena DUCTOR_SET_MALLOC_ARENA_MAX=1 DUCTOR_SUPERVISED=1 "$@"
    fi
    # Refused: another ductor runs on this home. Its CLIs are not ours to end; its message was printed.
    [ "$code" -eq 75 ] && exit 75
    # A child that died (kill -9, a crash) leaves its CLIs running in their own process groups: a
    # short node ends those whose owning service is dead (src/cli/supervise.ts, endChildClis). After
    # a hang-up it gets no terminal (a node exiting on a hung-up terminal aborts, src/hangup.ts).
    if [ -n "$hungup" ]; then
      env DUCTOR_END_CLIS=1 "$@" </dev/null >/dev/null 2>&1 9<&-
    else
      env DUCTOR_END_CLIS=1 "$@" </dev/null 9<&-
    fi
    [ -n "$stopping" ] && exit "$code"
    case $code in
      0 | 2) exit "$code" ;;
      42) say 'restarting'; continue ;;
    esac
    if [ "$code" -gt 128 ]; then
      how="signal SIG$(kill -l "$((code - 128))" 2>/dev/null || echo "$((code - 128))")"
    else
      how="exit code $code"
    fi
    now=$(date +%s)
    recent= n=1
    for at in $crashes; do
      if [ "$((now - at))" -lt "$crash_window_s" ]; then recent="$recent $at" n=$((n + 1)); fi
    done
    crashes="$recent $now"
    if [ "$n" -ge "$crash_limit" ]; then
      say "the service (pid $pid) ended with $how, its ${crash_limit}th crash within $((crash_window_s / 60)) minutes: giving up (see the log in logs/)"
      exit "$code"
    fi
    delay=1 i=1
    while [ "$i" -lt "$n" ]; do delay=$((delay * 2)) i=$((i + 1)); done
    [ "$delay" -gt "$max_backoff_s" ] && delay=$max_backoff_s
    say "the service (pid $pid) ended unexpectedly with $how; restarting it in $delay s (crash $n of at most $((crash_limit - 1)) within $((crash_window_s / 60)) minutes)"
    sleep "$delay" 9<&- &
    sleeper=$!
    [ -n "$stopping" ] && kill "$sleeper" 2>/dev/null
    wait "$sleeper" 2>/dev/null
    sleeper=
    # A stop signal during the backoff ends the supervisor with 0.
    [ -n "$stopping" ] && exit 0
  done
}
ductor_supervise "$@"
exit
