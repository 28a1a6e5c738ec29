package io.gpuagent.exporter;

/** A counters file the agent cannot use; the message names the file and line and says what is wrong. */
public final class CountersFileException extends RuntimeException {
    private final String file;
    private final int line;

    public CountersFileException(String file, int line, String message) {
        super(line > 0 ? file + ":" + line + ": " + message : file + ": " + message);
        this.file = file;
        this.line = line;
    }

    public String file() {
        return file;
    }

    /** 1-based line number; 0 when the problem is the whole file (e.g. unreadable). */
    public int line() {
        return line;
    }
}
