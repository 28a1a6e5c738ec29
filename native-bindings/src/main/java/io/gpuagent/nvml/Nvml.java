package io.gpuagent.nvml;

import io.gpuagent.nvml.ffm.FfmNvml;
import java.util.List;

/**
 * The NVML library, loaded and initialised. The only entry point modules above {@code native-bindings}
 * use; nothing above this package touches {@code MemorySegment}.
 *
 * <p>Every method throws {@link NvmlException} on a non-success return. Thread-safe: NVML itself is, and
 * every call uses its own confined arena.
 */
public interface Nvml extends AutoCloseable {

    /** The soname the real driver installs. */
    String DEFAULT_LIBRARY = "libnvidia-ml.so.1";

    /**
     * dlopens {@code library} (a soname searched on the loader path, or a file path) and calls
     * {@code nvmlInit_v2}. Throws {@link NvmlException} with {@link NvmlReturn#LIBRARY_NOT_FOUND} when the
     * library cannot be opened, or the init code (e.g. DRIVER_NOT_LOADED) when init fails.
     */
    static Nvml open(String library) {
        return FfmNvml.open(library);
    }

    /** {@code nvmlSystemGetDriverVersion}, e.g. {@code 535.261.03}. */
    String driverVersion();

    /** {@code nvmlSystemGetNVMLVersion}, e.g. {@code 12.535.261.03}. */
    String nvmlVersion();

    /** {@code nvmlSystemGetCudaDriverVersion_v2} (fallback v1), e.g. 12020 for CUDA 12.2. */
    int cudaDriverVersion();

    /** {@code nvmlDeviceGetCount_v2}: includes GPUs this process may not open. */
    int deviceCount();

    /** {@code nvmlDeviceGetHandleByIndex_v2}. The same index returns the same {@link GpuDevice}. */
    GpuDevice device(int index);

    /** A GPU by its {@code GPU-} UUID; a MIG device's UUID answers NOT_FOUND here (see {@link #migDeviceByUuid}). */
    GpuDevice deviceByUuid(String uuid);

    /**
     * {@code nvmlDeviceGetHandleByUUID} with a MIG device's UUID ({@code MIG-...}, or the pre-R470 form
     * {@code MIG-GPU-<uuid>/<gi>/<ci>}): a fresh {@link MigDevice}, as {@link GpuDevice#migDevices()} gives it.
     * NOT_FOUND when no MIG device has it (a GPU's UUID included).
     */
    MigDevice migDeviceByUuid(String uuid);

    GpuDevice deviceByPciBusId(String pciBusId);

    /** Every GPU this process may open, in index order; GPUs answering NO_PERMISSION are skipped. */
    List<GpuDevice> devices();

    /** {@code nvmlEventSetCreate}. Wait on it from a platform thread: the wait blocks in native code. */
    EventSet createEventSet();

    /** {@code nvmlErrorString}: the driver's text for a return code. Never null. */
    String errorString(int code);

    /** {@code nvmlDeviceQueryDrainState}. */
    boolean drainState(PciInfo pci);

    /** {@code nvmlDeviceModifyDrainState} (root). */
    void modifyDrainState(PciInfo pci, boolean drain);

    /** {@code nvmlDeviceRemoveGpu_v2} with detach/keep-link (root). Handles and indices change afterwards. */
    void removeGpu(PciInfo pci);

    /** {@code nvmlShutdown}. Handles become invalid. */
    @Override
    void close();
}
