package io.gpuagent.nvml;

/**
 * A failed NVML call: the raw return code (kept even when {@link NvmlReturn} does not know it) and the
 * NVML function that returned it.
 */
public final class NvmlException extends RuntimeException {
    private final int code;
    private final String function;

    public NvmlException(int code, String function, String message) {
        super(function + " returned " + NvmlReturn.of(code) + " (" + code + ")" + (message == null || message.isEmpty() ? "" : ": " + message));
        this.code = code;
        this.function = function;
    }

    public NvmlException(int code, String function) {
        this(code, function, null);
    }

    /** The raw {@code nvmlReturn_t}. */
    public int code() {
        return code;
    }

    public NvmlReturn result() {
        return NvmlReturn.of(code);
    }

    /** The NVML C function that failed, e.g. {@code nvmlDeviceGetTemperature}. */
    public String function() {
        return function;
    }

    /** The GPU fell off the bus, or the library and kernel module disagree: stop polling this GPU. */
    public boolean gpuLost() {
        return code == NvmlReturn.GPU_IS_LOST.code() || code == NvmlReturn.LIB_RM_VERSION_MISMATCH.code();
    }

    /** A capability the device or driver lacks; the reading is simply absent. DEPRECATED counts too. */
    public boolean notSupported() {
        return code == NvmlReturn.NOT_SUPPORTED.code() || code == NvmlReturn.FUNCTION_NOT_FOUND.code()
                || code == NvmlReturn.DEPRECATED.code();
    }

    public boolean insufficientSize() {
        return code == NvmlReturn.INSUFFICIENT_SIZE.code();
    }

    public boolean resetRequired() {
        return code == NvmlReturn.RESET_REQUIRED.code();
    }

    public boolean noPermission() {
        return code == NvmlReturn.NO_PERMISSION.code();
    }

    /** The library is absent or the kernel driver is not loaded: the host has no usable NVIDIA driver. */
    public boolean driverMissing() {
        return code == NvmlReturn.LIBRARY_NOT_FOUND.code() || code == NvmlReturn.DRIVER_NOT_LOADED.code();
    }
}
