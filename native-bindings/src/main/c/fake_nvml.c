/*
 * Fake NVML: init/shutdown, error strings, system queries and device enumeration.
 * Behaviour copied from the real library where docs/nvml.md#loading-and-lifecycle records it (shutdown without init is
 * SUCCESS, nvmlSystemGetNVMLVersion works before init, everything else answers UNINITIALIZED).
 */
#include <stdio.h>
#include <string.h>

#include "fake_internal.h"

API nvmlReturn_t nvmlInit_v2(void) {
    return fake_init(FN_nvmlInit_v2);
}

API nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    (void) flags; /* NO_GPUS / NO_ATTACH change nothing for GPUs that never need attaching */
    return fake_init(FN_nvmlInitWithFlags);
}

API nvmlReturn_t nvmlShutdown(void) {
    return fake_shutdown();
}

API const char *nvmlErrorString(nvmlReturn_t result) {
    static const char *const text[] = {
        [NVML_SUCCESS] = "Success",
        [NVML_ERROR_UNINITIALIZED] = "Uninitialized",
        [NVML_ERROR_INVALID_ARGUMENT] = "Invalid Argument",
        [NVML_ERROR_NOT_SUPPORTED] = "Not Supported",
        [NVML_ERROR_NO_PERMISSION] = "Insufficient Permissions",
        [NVML_ERROR_ALREADY_INITIALIZED] = "Already Initialized",
        [NVML_ERROR_NOT_FOUND] = "Not Found",
        [NVML_ERROR_INSUFFICIENT_SIZE] = "Insufficient Size",
        [NVML_ERROR_INSUFFICIENT_POWER] = "Insufficient External Power",
        [NVML_ERROR_DRIVER_NOT_LOADED] = "Driver Not Loaded",
        [NVML_ERROR_TIMEOUT] = "Timeout",
        [NVML_ERROR_IRQ_ISSUE] = "Interrupt Request Issue",
        [NVML_ERROR_LIBRARY_NOT_FOUND] = "NVML Shared Library Not Found",
        [NVML_ERROR_FUNCTION_NOT_FOUND] = "Function Not Found",
        [NVML_ERROR_CORRUPTED_INFOROM] = "Corrupted infoROM",
        [NVML_ERROR_GPU_IS_LOST] = "GPU is lost",
        [NVML_ERROR_RESET_REQUIRED] = "GPU requires reset",
        [NVML_ERROR_OPERATING_SYSTEM] = "GPU access blocked by the operating system",
        [NVML_ERROR_LIB_RM_VERSION_MISMATCH] = "Driver/library version mismatch",
        [NVML_ERROR_IN_USE] = "In use by another client",
        [NVML_ERROR_MEMORY] = "Insufficient Memory",
        [NVML_ERROR_NO_DATA] = "No data",
        [NVML_ERROR_VGPU_ECC_NOT_SUPPORTED] = "vGPU ECC not supported",
        [NVML_ERROR_INSUFFICIENT_RESOURCES] = "Insufficient Resources",
        [NVML_ERROR_FREQ_NOT_SUPPORTED] = "Invalid Frequency",
        [NVML_ERROR_ARGUMENT_VERSION_MISMATCH] = "Argument version mismatch",
        [NVML_ERROR_DEPRECATED] = "Requested functionality has been deprecated",
        [NVML_ERROR_NOT_READY] = "System is not in ready state",
        [NVML_ERROR_GPU_NOT_FOUND] = "GPU not found",
        [NVML_ERROR_INVALID_STATE] = "Invalid state",
        [NVML_ERROR_RESET_TYPE_NOT_SUPPORTED] = "Reset type not supported",
    };
    unsigned int code = (unsigned int) result;
    if (code < sizeof(text) / sizeof(text[0]) && text[code])
        return text[code];
    return "Unknown Error"; /* also NVML_ERROR_UNKNOWN (999) */
}

static nvmlReturn_t system_begin(call_ctx *c, fake_fn fn) {
    nvmlReturn_t rc = fake_enter(c, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    return fake_knobs(c, fn, -1, 0);
}

API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    call_ctx c;
    nvmlReturn_t rc = system_begin(&c, FN_nvmlSystemGetDriverVersion);
    if (rc != NVML_SUCCESS)
        return rc;
    return fake_leave(&c, fake_copy_string(version, length, c.s->driver_version));
}

API nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter_uninitialized(&c);
    if (rc != NVML_SUCCESS)
        return rc;
    rc = fake_knobs(&c, FN_nvmlSystemGetNVMLVersion, -1, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    return fake_leave(&c, fake_copy_string(version, length, c.s->nvml_version));
}

static nvmlReturn_t cuda_version(fake_fn fn, int *out) {
    call_ctx c;
    nvmlReturn_t rc = system_begin(&c, fn);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!out)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    *out = c.s->cuda_version;
    return fake_leave(&c, NVML_SUCCESS);
}

API nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion) {
    return cuda_version(FN_nvmlSystemGetCudaDriverVersion_v2, cudaDriverVersion);
}

API nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion) {
    return cuda_version(FN_nvmlSystemGetCudaDriverVersion, cudaDriverVersion);
}

/* ---- enumeration ------------------------------------------------------------------------------- */

API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) {
    call_ctx c;
    nvmlReturn_t rc = system_begin(&c, FN_nvmlDeviceGetCount_v2);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!deviceCount)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    *deviceCount = fake_visible_count(c.s);
    return fake_leave(&c, NVML_SUCCESS);
}

/* The shared tail of the three lookups: the GPU's own knobs, then no_permission. A lost GPU is still
 * found (its handle then answers GPU_IS_LOST). */
static nvmlReturn_t hand_out(call_ctx *c, fake_fn fn, int slot, nvmlDevice_t *device) {
    nvmlReturn_t rc = fake_knobs(c, fn, slot, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!fake_slot_present(c->s, (unsigned int) slot))
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT); /* removed while this call slept */
    if (c->g->no_permission)
        return fake_leave(c, NVML_ERROR_NO_PERMISSION);
    *device = fake_handle((unsigned int) slot);
    return fake_leave(c, NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter(&c, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    int slot = fake_visible_slot(c.s, index);
    if (!device || slot < 0)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    return hand_out(&c, FN_nvmlDeviceGetHandleByIndex_v2, slot, device);
}

/* The MIG device of GPU g that `uuid` names, or -1. */
static int mig_named(const gpu_cfg *g, const char *uuid) {
    for (unsigned int m = 0; m < g->n_mig; m++) {
        const fake_gi *gi = &g->gi[g->mig[m].gi];
        char legacy[160];
        snprintf(legacy, sizeof(legacy), "MIG-%s/%u/%u", g->uuid, gi->id, g->mig[m].ci);
        if (strcmp(gi->uuid[g->mig[m].ci], uuid) == 0 || strcmp(legacy, uuid) == 0)
            return (int) m;
    }
    return -1;
}

API nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter(&c, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!uuid || !device)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    for (unsigned int slot = 0; slot < c.s->gpus; slot++)
        if (fake_slot_present(c.s, slot) && strcmp(c.s->gpu[slot].uuid, uuid) == 0)
            return hand_out(&c, FN_nvmlDeviceGetHandleByUUID, (int) slot, device);
    /* A MIG device, by its UUID or the pre-R470 form MIG-<GPU UUID>/<GPU instance>/<compute instance>. */
    for (unsigned int slot = 0; slot < c.s->gpus; slot++)
        if (fake_slot_present(c.s, slot) && mig_named(&c.s->gpu[slot], uuid) >= 0) {
            nvmlDevice_t parent;
            rc = hand_out(&c, FN_nvmlDeviceGetHandleByUUID, (int) slot, &parent); /* the GPU's knobs; frees the lock */
            if (rc != NVML_SUCCESS)
                return rc;
            rc = fake_enter(&c, 0);
            if (rc != NVML_SUCCESS)
                return rc;
            int m = mig_named(&c.s->gpu[slot], uuid); /* again: a reload may have run while the lock was free */
            if (m < 0)
                return fake_leave(&c, NVML_ERROR_NOT_FOUND);
            *device = fake_mig_handle(slot, (unsigned int) m);
            return fake_leave(&c, NVML_SUCCESS);
        }
    return fake_leave(&c, NVML_ERROR_NOT_FOUND);
}

API nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device) {
    call_ctx c;
    nvmlReturn_t rc = fake_enter(&c, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    pci_addr want;
    if (!pciBusId || !device || fake_parse_pci(pciBusId, &want) != 0)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    for (unsigned int slot = 0; slot < c.s->gpus; slot++) {
        const pci_addr *a = &c.s->gpu[slot].pci;
        if (fake_slot_present(c.s, slot) && a->domain == want.domain && a->bus == want.bus && a->device == want.device)
            return hand_out(&c, FN_nvmlDeviceGetHandleByPciBusId_v2, (int) slot, device);
    }
    return fake_leave(&c, NVML_ERROR_NOT_FOUND);
}

API nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index) {
    DEVICE_BEGIN(nvmlDeviceGetIndex, device, 0);
    if (!index)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    /* A MIG device's index is the one nvmlDeviceGetMigDeviceHandleByIndex takes (the header). */
    *index = c_.mig >= 0 ? (unsigned int) c_.mig : fake_visible_index(c_.s, c_.slot);
    DONE(NVML_SUCCESS);
}
