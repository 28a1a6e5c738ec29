/*
 * Fake NVML: control calls. A write lands in fake_live[] (under the write lock) and stands until a
 * reload changes that key's value in the scenario file (native-bindings/README.md, "Control calls").
 * No root check: a test grants or denies with error.<fn> = 4 (NO_PERMISSION).
 */
#include "fake_internal.h"

API nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t *mode) {
    DEVICE_BEGIN(nvmlDeviceGetPersistenceMode, device, 0);
    if (!mode)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    *mode = fake_persistence(&c_);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceSetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t mode) {
    DEVICE_BEGIN(nvmlDeviceSetPersistenceMode, device, 1);
    if (mode > 1)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    c_.live->has_persistence = 1;
    c_.live->persistence = mode;
    DONE(NVML_SUCCESS);
}

static nvmlReturn_t set_power_limit(call_ctx *c, unsigned int limit) {
    if (limit < c->g->power_min_limit_mw || limit > c->g->power_max_limit_mw)
        return NVML_ERROR_INVALID_ARGUMENT;
    c->live->has_power_limit = 1;
    c->live->power_limit = limit;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit) {
    DEVICE_BEGIN(nvmlDeviceSetPowerManagementLimit, device, 1);
    DONE(set_power_limit(&c_, limit));
}

API nvmlReturn_t nvmlDeviceSetPowerManagementLimit_v2(nvmlDevice_t device, nvmlPowerValue_v2_t *powerValue) {
    DEVICE_BEGIN(nvmlDeviceSetPowerManagementLimit_v2, device, 1);
    if (!powerValue)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    if (powerValue->version != nvmlPowerValue_v2)
        DONE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    if (powerValue->powerScope != 0)
        DONE(NVML_ERROR_NOT_SUPPORTED); /* module scope needs a Grace Hopper board */
    DONE(set_power_limit(&c_, powerValue->powerValueMw));
}

/* The fake keeps no application or locked clocks, so there is nothing to reset. */
API nvmlReturn_t nvmlDeviceResetApplicationsClocks(nvmlDevice_t device) {
    DEVICE_BEGIN(nvmlDeviceResetApplicationsClocks, device, 0);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device) {
    DEVICE_BEGIN(nvmlDeviceResetGpuLockedClocks, device, 0);
    DONE(NVML_SUCCESS);
}

API nvmlReturn_t nvmlDeviceResetMemoryLockedClocks(nvmlDevice_t device) {
    DEVICE_BEGIN(nvmlDeviceResetMemoryLockedClocks, device, 0);
    DONE(NVML_SUCCESS);
}

/* Drain and removal name the GPU by PCI address (domain/bus/device), not by handle, and work on a lost
 * GPU: that is when an operator needs them. */
static nvmlReturn_t enter_by_pci(call_ctx *c, fake_fn fn, const nvmlPciInfo_t *pci, int write) {
    nvmlReturn_t rc = fake_enter(c, write);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!pci)
        return fake_leave(c, NVML_ERROR_INVALID_ARGUMENT);
    int slot = -1;
    for (unsigned int i = 0; i < c->s->gpus && slot < 0; i++) {
        const pci_addr *a = &c->s->gpu[i].pci;
        if (fake_slot_present(c->s, i) && a->domain == pci->domain && a->bus == pci->bus && a->device == pci->device)
            slot = (int) i;
    }
    if (slot < 0)
        return fake_leave(c, NVML_ERROR_NOT_FOUND);
    rc = fake_knobs(c, fn, slot, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!fake_slot_present(c->s, (unsigned int) slot))
        return fake_leave(c, NVML_ERROR_NOT_FOUND);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceQueryDrainState(nvmlPciInfo_t *pciInfo, nvmlEnableState_t *currentState) {
    call_ctx c;
    nvmlReturn_t rc = enter_by_pci(&c, FN_nvmlDeviceQueryDrainState, pciInfo, 0);
    if (rc != NVML_SUCCESS)
        return rc;
    if (!currentState)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    *currentState = fake_drain(c.g, c.live);
    return fake_leave(&c, NVML_SUCCESS);
}

/* Like the real driver, draining needs persistence mode off (IN_USE otherwise). */
API nvmlReturn_t nvmlDeviceModifyDrainState(nvmlPciInfo_t *pciInfo, nvmlEnableState_t newState) {
    call_ctx c;
    nvmlReturn_t rc = enter_by_pci(&c, FN_nvmlDeviceModifyDrainState, pciInfo, 1);
    if (rc != NVML_SUCCESS)
        return rc;
    if (newState > 1)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    if (newState == 1 && fake_persistence(&c))
        return fake_leave(&c, NVML_ERROR_IN_USE);
    c.live->has_drain = 1;
    c.live->drain = newState;
    return fake_leave(&c, NVML_SUCCESS);
}

/* Removal hides the GPU: the count drops, later GPUs' indices shift down and its handle answers
 * GPU_IS_LOST. Refused (IN_USE) while persistence mode is on or processes run on it. */
API nvmlReturn_t nvmlDeviceRemoveGpu_v2(nvmlPciInfo_t *pciInfo, nvmlDetachGpuState_t gpuState,
                                        nvmlPcieLinkState_t linkState) {
    call_ctx c;
    nvmlReturn_t rc = enter_by_pci(&c, FN_nvmlDeviceRemoveGpu_v2, pciInfo, 1);
    if (rc != NVML_SUCCESS)
        return rc;
    if (gpuState > 1 || linkState > 1)
        return fake_leave(&c, NVML_ERROR_INVALID_ARGUMENT);
    if (fake_persistence(&c) || c.g->compute.count || c.g->graphics.count)
        return fake_leave(&c, NVML_ERROR_IN_USE);
    c.live->removed = 1;
    return fake_leave(&c, NVML_SUCCESS);
}
