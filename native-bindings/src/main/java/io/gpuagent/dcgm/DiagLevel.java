package io.gpuagent.dcgm;

/** {@code dcgmDiagnosticLevel_t}: {@code dcgmi diag -r 1..4}. */
public enum DiagLevel {
    R1(10, 1), R2(20, 2), R3(30, 3), R4(40, 4);

    private final int code;
    private final int validation;

    DiagLevel(int code, int validation) {
        this.code = code;
        this.validation = validation;
    }

    /** The {@code dcgmDiagnosticLevel_t} value. */
    public int code() {
        return code;
    }

    /** The matching {@code dcgmPolicyValidation_t} ({@code dcgmRunDiag.validate}). */
    public int validation() {
        return validation;
    }
}
