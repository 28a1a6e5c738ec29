package io.gpuagent.nvml;

/**
 * {@code NVML_GPU_INSTANCE_PROFILE_*}: what {@link GpuDevice#gpuInstanceProfile(int)} takes. Not the profile ids
 * instances carry ({@link GpuInstanceProfile#id()}): 1g.10gb is index {@link #ONE_SLICE} and id 19 on an H100.
 */
public final class GpuInstanceProfiles {
    public static final int ONE_SLICE = 0x0;
    public static final int TWO_SLICE = 0x1;
    public static final int THREE_SLICE = 0x2;
    public static final int FOUR_SLICE = 0x3;
    public static final int SEVEN_SLICE = 0x4;
    public static final int EIGHT_SLICE = 0x5;
    public static final int SIX_SLICE = 0x6;
    /** One slice with media engines ({@code +me}). */
    public static final int ONE_SLICE_REV1 = 0x7;
    /** Two slices with media engines. */
    public static final int TWO_SLICE_REV1 = 0x8;
    /** One slice with twice the memory (1g.20gb on an H100). */
    public static final int ONE_SLICE_REV2 = 0x9;
    /** {@code NVML_GPU_INSTANCE_PROFILE_COUNT} of the NVML 13 header; older drivers answer INVALID_ARGUMENT above their own. */
    public static final int COUNT = 0x12;

    private GpuInstanceProfiles() {
    }
}
