package io.gpuagent.dcgm;

/**
 * {@code dcgmReturn_t} (dcgm_structs.h, DCGM 4.6.0; {@code DCGM_ST_3RD_PARTY_LIBRARY_ERROR} is
 * {@link #THIRD_PARTY_LIBRARY_ERROR}). DCGM's codes are zero or negative. {@link #UNRECOGNIZED} stands for a code this
 * list does not know (a newer library); {@link DcgmException#code()} keeps the raw value.
 */
public enum DcgmReturn {
    OK(0),
    BADPARAM(-1),
    GENERIC_ERROR(-3),
    MEMORY(-4),
    NOT_CONFIGURED(-5),
    NOT_SUPPORTED(-6),
    INIT_ERROR(-7),
    NVML_ERROR(-8),
    PENDING(-9),
    UNINITIALIZED(-10),
    TIMEOUT(-11),
    VER_MISMATCH(-12),
    UNKNOWN_FIELD(-13),
    NO_DATA(-14),
    STALE_DATA(-15),
    NOT_WATCHED(-16),
    NO_PERMISSION(-17),
    GPU_IS_LOST(-18),
    RESET_REQUIRED(-19),
    FUNCTION_NOT_FOUND(-20),
    CONNECTION_NOT_VALID(-21),
    GPU_NOT_SUPPORTED(-22),
    GROUP_INCOMPATIBLE(-23),
    MAX_LIMIT(-24),
    LIBRARY_NOT_FOUND(-25),
    DUPLICATE_KEY(-26),
    GPU_IN_SYNC_BOOST_GROUP(-27),
    GPU_NOT_IN_SYNC_BOOST_GROUP(-28),
    REQUIRES_ROOT(-29),
    NVVS_ERROR(-30),
    INSUFFICIENT_SIZE(-31),
    FIELD_UNSUPPORTED_BY_API(-32),
    MODULE_NOT_LOADED(-33),
    IN_USE(-34),
    GROUP_IS_EMPTY(-35),
    PROFILING_NOT_SUPPORTED(-36),
    PROFILING_LIBRARY_ERROR(-37),
    PROFILING_MULTI_PASS(-38),
    DIAG_ALREADY_RUNNING(-39),
    DIAG_BAD_JSON(-40),
    DIAG_BAD_LAUNCH(-41),
    DIAG_UNUSED(-42),
    DIAG_THRESHOLD_EXCEEDED(-43),
    INSUFFICIENT_DRIVER_VERSION(-44),
    INSTANCE_NOT_FOUND(-45),
    COMPUTE_INSTANCE_NOT_FOUND(-46),
    CHILD_NOT_KILLED(-47),
    THIRD_PARTY_LIBRARY_ERROR(-48),
    INSUFFICIENT_RESOURCES(-49),
    PLUGIN_EXCEPTION(-50),
    NVVS_ISOLATE_ERROR(-51),
    NVVS_BINARY_NOT_FOUND(-52),
    NVVS_KILLED(-53),
    PAUSED(-54),
    ALREADY_INITIALIZED(-55),
    NVML_NOT_LOADED(-56),
    NVML_DRIVER_TIMEOUT(-57),
    NVVS_NO_AVAILABLE_TEST(-58),
    MNDIAG_CONNECTION_NOT_AVAILABLE(-59),
    MNDIAG_CONNECTION_UNAUTHORIZED(-60),
    REMOTE_SSH_CONNECTION_FAILED(-61),
    CHILD_SPAWN_FAILED(-62),
    FILE_IO_ERROR(-63),
    CHILD_SIGNAL_RECEIVED(-64),
    CALLER_ALREADY_STOPPED(-65),
    DIAG_STOPPED(-66),
    GPUS_DETACHED(-67),
    /** Not a DCGM 4.6 code. */
    UNRECOGNIZED(Integer.MIN_VALUE);

    private final int code;

    DcgmReturn(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static DcgmReturn of(int code) {
        for (DcgmReturn r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return UNRECOGNIZED;
    }
}
