package io.gpuagent.dcgm;

/** {@code dcgmHealthWatchResults_t}. */
public enum HealthResult {
    PASS(0), WARN(10), FAIL(20);

    private final int code;

    HealthResult(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static HealthResult of(int code) {
        return switch (code) {
            case 0 -> PASS;
            case 10 -> WARN;
            case 20 -> FAIL;
            default -> throw new DcgmException(DcgmReturn.GENERIC_ERROR.code(), "dcgmHealthCheck", "unknown health result " + code);
        };
    }
}
