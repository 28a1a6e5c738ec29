/*
 * Fake NVML: MIG. MIG device handles (one per compute instance), GPU and compute instances, their profiles and
 * placements, as the topology in the scenario (mig.c) says. Return codes follow the header's doc comments; where
 * a header leaves the answer open, native-bindings/README.md ("MIG") says which one the fake gives.
 */
#include <stdio.h>
#include <string.h>

#include "fake_internal.h"

/* The calls about a GPU's MIG configuration take the GPU, not one of its MIG devices. */
#define GPU_ONLY()                             \
    do {                                       \
        if (c_.mig >= 0)                       \
            DONE(NVML_ERROR_INVALID_ARGUMENT); \
    } while (0)

static const fake_gi *mig_gi(const call_ctx *c) {
    return &c->g->gi[c->g->mig[c->mig].gi];
}

static const fake_ci *mig_ci(const call_ctx *c) {
    return &mig_gi(c)->ci[c->g->mig[c->mig].ci];
}

/* ---- MIG device handles ------------------------------------------------------------------------------ */

API nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned int *isMigDevice) {
    DEVICE_BEGIN(nvmlDeviceIsMigDeviceHandle, device, 0);
    if (!isMigDevice)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (c_.mig < 0 && !G->mig_product)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* "if this check is not supported by the device" */
    *isMigDevice = c_.mig >= 0;
    DONE(NVML_SUCCESS);
}

/* "Returns zero if MIG is not supported or enabled." */
API nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    DEVICE_BEGIN(nvmlDeviceGetMaxMigDeviceCount, device, 0);
    GPU_ONLY();
    if (!count)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *count = G->mig_product && G->mig_mode ? FAKE_MAX_MIG : 0;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index, nvmlDevice_t *migDevice) {
    DEVICE_BEGIN(nvmlDeviceGetMigDeviceHandleByIndex, device, 0);
    GPU_ONLY();
    if (!migDevice)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->mig_product)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    if (index >= (G->mig_mode ? FAKE_MAX_MIG : 0u))
        DONE(NVML_ERROR_INVALID_ARGUMENT); /* beyond nvmlDeviceGetMaxMigDeviceCount */
    if (index >= G->n_mig)
        DONE(NVML_ERROR_NOT_FOUND); /* "if no valid MIG device was found at index" */
    *migDevice = fake_mig_handle(c_.slot, index);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t migDevice, nvmlDevice_t *device) {
    DEVICE_BEGIN(nvmlDeviceGetDeviceHandleFromMigDeviceHandle, migDevice, 0);
    if (!device || c_.mig < 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT); /* a GPU handle is not a valid migDevice */
    *device = fake_handle(c_.slot);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int *id) {
    DEVICE_BEGIN(nvmlDeviceGetGpuInstanceId, device, 0);
    if (!id)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (c_.mig < 0)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* a GPU handle: "if this query is not supported by the device" */
    *id = mig_gi(&c_)->id;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int *id) {
    DEVICE_BEGIN(nvmlDeviceGetComputeInstanceId, device, 0);
    if (!id)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (c_.mig < 0)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    *id = G->mig[c_.mig].ci;
    DONE(NVML_SUCCESS);
}

/* "This API currently only supports MIG device handles." Engines are shared by the compute instances of a GPU
 * instance; SMs are the compute instance's own. */
API nvmlReturn_t nvmlDeviceGetAttributes_v2(nvmlDevice_t device, nvmlDeviceAttributes_t *attributes) {
    DEVICE_BEGIN(nvmlDeviceGetAttributes_v2, device, 0);
    if (!attributes)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (c_.mig < 0)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    const fake_gi *gi = mig_gi(&c_);
    const fake_ci *ci = mig_ci(&c_);
    const mig_profile *p = gi->profile;
    attributes->multiprocessorCount = fake_mig_ci_sm(G, gi, ci);
    attributes->sharedCopyEngineCount = p->ce;
    attributes->sharedDecoderCount = p->dec;
    attributes->sharedEncoderCount = p->enc;
    attributes->sharedJpegCount = p->jpeg;
    attributes->sharedOfaCount = p->ofa;
    attributes->gpuInstanceSliceCount = p->slices;
    attributes->computeInstanceSliceCount = ci->slices;
    attributes->memorySizeMB = gi->memory_total_mib;
    DONE(NVML_SUCCESS);
}

/* ---- GPU instance profiles ------------------------------------------------------------------------- */

/* The profile at NVML_GPU_INSTANCE_PROFILE_* `index`: NULL with the answer in *rc when there is none. */
static const mig_profile *profile_at(const gpu_cfg *g, unsigned int index, nvmlReturn_t *rc) {
    *rc = NVML_ERROR_NOT_SUPPORTED; /* "doesn't have MIG mode enabled or profile isn't supported" */
    if (index >= NVML_GPU_INSTANCE_PROFILE_COUNT) {
        *rc = NVML_ERROR_INVALID_ARGUMENT;
        return NULL;
    }
    if (!g->mig_product || !g->mig_mode)
        return NULL;
    for (unsigned int i = 0; i < g->mig_product->n; i++)
        if (g->mig_product->p[i].index == index)
            return &g->mig_product->p[i];
    return NULL;
}

API nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned int profile,
                                                     nvmlGpuInstanceProfileInfo_t *info) {
    DEVICE_BEGIN(nvmlDeviceGetGpuInstanceProfileInfo, device, 0);
    GPU_ONLY();
    nvmlReturn_t rc;
    const mig_profile *p = profile_at(G, profile, &rc);
    if (!info)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!p)
        DONE(rc);
    *info = (nvmlGpuInstanceProfileInfo_t){p->id, 0, p->slices, p->instances, p->sm, p->ce, p->dec, p->enc, p->jpeg,
                                           p->ofa, p->memory_mib};
    DONE(NVML_SUCCESS);
}

/* v2 or v3 by the version word; the header answers INVALID_ARGUMENT (not ARGUMENT_VERSION_MISMATCH) for another. */
API nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned int profile,
                                                      nvmlGpuInstanceProfileInfo_v2_t *info) {
    DEVICE_BEGIN(nvmlDeviceGetGpuInstanceProfileInfoV, device, 0);
    GPU_ONLY();
    if (!info || (info->version != nvmlGpuInstanceProfileInfo_v2 && info->version != nvmlGpuInstanceProfileInfo_v3))
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    nvmlReturn_t rc;
    const mig_profile *p = profile_at(G, profile, &rc);
    if (!p)
        DONE(rc);
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    snprintf(name, sizeof(name), "MIG %s", p->name);
    if (info->version == nvmlGpuInstanceProfileInfo_v2) {
        *info = (nvmlGpuInstanceProfileInfo_v2_t){nvmlGpuInstanceProfileInfo_v2, p->id, 0, p->slices, p->instances, p->sm,
                                                  p->ce, p->dec, p->enc, p->jpeg, p->ofa, p->memory_mib, {0}};
        memcpy(info->name, name, sizeof(name));
    } else {
        nvmlGpuInstanceProfileInfo_v3_t *v3 = (nvmlGpuInstanceProfileInfo_v3_t *) info;
        *v3 = (nvmlGpuInstanceProfileInfo_v3_t){nvmlGpuInstanceProfileInfo_v3, p->id, p->slices, p->instances, p->sm,
                                                p->ce, p->dec, p->enc, p->jpeg, p->ofa, p->memory_mib, {0}, 0};
        memcpy(v3->name, name, sizeof(name));
    }
    DONE(NVML_SUCCESS);
}

/* ---- GPU instances ------------------------------------------------------------------------------------ */

/* The header sizes the array by the profile's instance count and has no INSUFFICIENT_SIZE; the fake reads *count
 * as the array's room and answers INSUFFICIENT_SIZE (with the count needed) rather than write past it. */
API nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned int profileId, nvmlGpuInstance_t *gpuInstances,
                                           unsigned int *count) {
    DEVICE_BEGIN(nvmlDeviceGetGpuInstances, device, 0);
    GPU_ONLY();
    if (!gpuInstances || !count)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->mig_product || !G->mig_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    int known = 0;
    for (unsigned int i = 0; i < G->mig_product->n; i++)
        known |= G->mig_product->p[i].id == profileId;
    if (!known)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    unsigned int n = 0;
    for (unsigned int i = 0; i < G->n_gi; i++)
        n += G->gi[i].profile->id == profileId;
    if (*count < n) {
        *count = n;
        DONE(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    n = 0;
    for (unsigned int i = 0; i < G->n_gi; i++)
        if (G->gi[i].profile->id == profileId)
            gpuInstances[n++] = fake_gi_handle(c_.slot, i);
    *count = n;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t device, unsigned int id, nvmlGpuInstance_t *gpuInstance) {
    DEVICE_BEGIN(nvmlDeviceGetGpuInstanceById, device, 0);
    GPU_ONLY();
    if (!gpuInstance)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (!G->mig_product || !G->mig_mode)
        DONE(NVML_ERROR_NOT_SUPPORTED);
    for (unsigned int i = 0; i < G->n_gi; i++)
        if (G->gi[i].id == id) {
            *gpuInstance = fake_gi_handle(c_.slot, i);
            DONE(NVML_SUCCESS);
        }
    DONE(NVML_ERROR_NOT_FOUND);
}

API nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gpuInstance, nvmlGpuInstanceInfo_t *info) {
    call_ctx c_;
    unsigned int pos;
    nvmlReturn_t rc = fake_enter_gpu_instance(&c_, FN_nvmlGpuInstanceGetInfo, gpuInstance, &pos);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!info)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    const fake_gi *gi = &c_.g->gi[pos];
    *info = (nvmlGpuInstanceInfo_t){fake_handle(c_.slot), gi->id, gi->profile->id, {gi->start, gi->profile->mem_slices}};
    DONE(NVML_SUCCESS);
}

/* ---- compute instances ---------------------------------------------------------------------------------- */

API nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t gpuInstance, unsigned int profileId,
                                                    nvmlComputeInstance_t *computeInstances, unsigned int *count) {
    call_ctx c_;
    unsigned int pos;
    nvmlReturn_t rc = fake_enter_gpu_instance(&c_, FN_nvmlGpuInstanceGetComputeInstances, gpuInstance, &pos);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!computeInstances || !count || profileId >= NVML_COMPUTE_INSTANCE_PROFILE_COUNT)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    const fake_gi *gi = &c_.g->gi[pos];
    if (!fake_mig_ci_profile_supported(gi, profileId))
        DONE(NVML_ERROR_NOT_SUPPORTED); /* "if profileId isn't supported" */
    unsigned int n = 0;
    for (unsigned int c = 0; c < gi->n_ci; c++)
        n += gi->ci[c].profile == profileId;
    if (*count < n) { /* as nvmlDeviceGetGpuInstances: *count is read as the array's room */
        *count = n;
        DONE(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    n = 0;
    for (unsigned int c = 0; c < gi->n_ci; c++)
        if (gi->ci[c].profile == profileId)
            computeInstances[n++] = fake_ci_handle(c_.slot, pos, c);
    *count = n;
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t computeInstance, nvmlComputeInstanceInfo_t *info) {
    call_ctx c_;
    unsigned int gi_pos, ci_pos;
    nvmlReturn_t rc = fake_enter_compute_instance(&c_, FN_nvmlComputeInstanceGetInfo_v2, computeInstance, &gi_pos, &ci_pos);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!info)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    const fake_ci *ci = &c_.g->gi[gi_pos].ci[ci_pos];
    *info = (nvmlComputeInstanceInfo_t){fake_handle(c_.slot), fake_gi_handle(c_.slot, gi_pos), ci_pos, ci->profile,
                                        {ci->start, ci->slices}};
    DONE(NVML_SUCCESS);
}
