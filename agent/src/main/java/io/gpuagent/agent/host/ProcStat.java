package io.gpuagent.agent.host;

import java.util.Optional;

/**
 * The parts of {@code /proc/<pid>/stat} the host check needs: pid, command, state and start time. The command
 * is in parentheses and may itself hold spaces and parentheses, so the fields after it are found from the last
 * {@code ')'}.
 */
record ProcStat(int pid, String command, char state, long startTicks) {

    static Optional<ProcStat> parse(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open <= 0 || close < open) {
            return Optional.empty();
        }
        String[] rest = line.substring(close + 1).strip().split(" ");
        // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
        if (rest.length < 20 || rest[0].length() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ProcStat(Integer.parseInt(line.substring(0, open).strip()),
                    line.substring(open + 1, close), rest[0].charAt(0), Long.parseLong(rest[19])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
