#!/usr/bin/env python3
"""Times runs of commands over a long list of files, spawning them directly.

A shell function that passes 20,000 paths ("${FILES[@]}") costs bash about 30 ms per
process it starts (building the argument vector; measured with /bin/true), which is
the shell's cost, not the tool's, and a fixed cost that shrinks every ratio between a
fast run and a slow one. Here the argument vectors are built once, before any clock
starts, and each run is posix_spawn to wait4.

Usage: spawn_time.py RUNS FILES OUT -- CMD... [-- CMD...]
  FILES  a file with one path per line
  OUT    where the standard output of each run's commands goes (rewritten by every
         run); their standard error goes to OUT.err
  CMD    a command; the word {files} stands for the whole list, or, with two
         commands, for the first half (first command) and the rest (second): both
         start together, as two processes of one run

Prints one line per run: the wall time and the CPU time (user + sys of all the run's
processes, from wait4), in seconds. Exits 1 if any process fails.
"""
import os
import sys
import time


def main():
    runs, files_path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    if not rest or rest[0] != "--":
        sys.exit("usage: spawn_time.py RUNS FILES OUT -- CMD... [-- CMD...]")
    commands, current = [], None
    for word in rest:
        if word == "--":
            current = []
            commands.append(current)
        else:
            current.append(word)
    # Bytes, encoded once: a list of str would be encoded again at every spawn.
    with open(files_path, "rb") as f:
        files = [line.rstrip(b"\n") for line in f if line.strip()]
    half = len(files) // 2
    shares = [files] if len(commands) == 1 else [files[:half], files[half:]]
    argvs = []
    for cmd, share in zip(commands, shares):
        argv = []
        for word in cmd:
            argv.extend(share if word == "{files}" else [os.fsencode(word)])
        argvs.append(argv)

    failed = False
    for _ in range(runs):
        out_fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err_fd = os.open(out + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        actions = [(os.POSIX_SPAWN_DUP2, out_fd, 1), (os.POSIX_SPAWN_DUP2, err_fd, 2)]
        start = time.perf_counter()
        pids = []
        for argv in argvs:
            pids.append(os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions))
        cpu = 0.0
        for pid in pids:
            _, status, usage = os.wait4(pid, 0)
            cpu += usage.ru_utime + usage.ru_stime
            failed |= os.waitstatus_to_exitcode(status) != 0
        wall = time.perf_counter() - start
        os.close(out_fd)
        os.close(err_fd)
        print(f"{wall:.6f} {cpu:.3f}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
