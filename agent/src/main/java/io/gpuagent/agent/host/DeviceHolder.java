package io.gpuagent.agent.host;

/**
 * A process in uninterruptible sleep (D state) that holds a {@code /dev/nvidia*} file open: a driver call that
 * does not return. How long it has been so, the detector learns by seeing it again.
 *
 * @param startTicks the process's start time in clock ticks since boot ({@code stat} field 22): with the pid,
 *                   tells a new process under a reused pid from the old one
 */
public record DeviceHolder(int pid, long startTicks, String command, String device) {

    /** Identifies the process across samples. */
    public String key() {
        return pid + "@" + startTicks;
    }
}
