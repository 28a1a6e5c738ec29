package io.gpuagent.dcgm;

/** A failed DCGM call: the raw {@code dcgmReturn_t} and the DCGM function that returned it. */
public final class DcgmException extends RuntimeException {
    private final int code;
    private final String function;

    public DcgmException(int code, String function, String message) {
        super(function + " returned DCGM_ST_" + DcgmReturn.of(code) + " (" + code + ")"
                + (message == null || message.isEmpty() ? "" : ": " + message));
        this.code = code;
        this.function = function;
    }

    public DcgmException(int code, String function) {
        this(code, function, null);
    }

    public int code() {
        return code;
    }

    public DcgmReturn result() {
        return DcgmReturn.of(code);
    }

    /** The DCGM C function that failed, e.g. {@code dcgmEntitiesGetLatestValues}. */
    public String function() {
        return function;
    }

    /** The host engine is gone (remote: nv-hostengine stopped or unreachable): reconnect later. */
    public boolean connectionLost() {
        return code == DcgmReturn.CONNECTION_NOT_VALID.code();
    }
}
