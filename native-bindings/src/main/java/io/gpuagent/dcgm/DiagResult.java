package io.gpuagent.dcgm;

/** {@code dcgmDiagResult_t}. */
public enum DiagResult {
    PASS, SKIP, WARN, FAIL, NOT_RUN;

    public static DiagResult of(int code) {
        DiagResult[] all = values();
        return code >= 0 && code < all.length ? all[code] : NOT_RUN;
    }
}
