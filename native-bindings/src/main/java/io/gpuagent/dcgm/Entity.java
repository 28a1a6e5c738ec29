package io.gpuagent.dcgm;

/** One DCGM entity ({@code dcgmGroupEntityPair_t}): a GPU (its DCGM GPU id), a GPU instance, a compute instance... */
public record Entity(EntityGroup group, int id) {
    public static Entity gpu(int gpuId) {
        return new Entity(EntityGroup.GPU, gpuId);
    }
}
