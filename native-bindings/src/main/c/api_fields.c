/*
 * Fake NVML: nvmlDeviceGetFieldValues. Each entry gets its own nvmlReturn, a valueType fitting its id
 * and a microsecond wall-clock timestamp; ids the fake does not serve answer NOT_SUPPORTED in their entry
 * while the call itself succeeds, as on a real driver.
 */
#include <string.h>

#include "fake_internal.h"

enum { UINT = NVML_VALUE_TYPE_UNSIGNED_INT, ULL = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG };
enum { LINK_FLIT, LINK_DATA, LINK_REPLAY, LINK_RECOVERY, LINK_ECC };
#define SCOPE_ALL_LINKS 0xFFFFFFFFu

/* Per-link NVLink error ids: links 0-5 at 32-59, links 6-11 at 96-119, ECC data 148-159. */
static int link_field(unsigned int id, int *kind, unsigned int *link) {
    static const struct {
        unsigned int first, links, base_link;
        int kind;
    } ranges[] = {
        {32, 6, 0, LINK_FLIT},   {39, 6, 0, LINK_DATA},   {46, 6, 0, LINK_REPLAY}, {53, 6, 0, LINK_RECOVERY},
        {96, 6, 6, LINK_FLIT},   {102, 6, 6, LINK_DATA},  {108, 6, 6, LINK_REPLAY}, {114, 6, 6, LINK_RECOVERY},
        {148, 12, 0, LINK_ECC},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (id >= ranges[i].first && id < ranges[i].first + ranges[i].links) {
            *kind = ranges[i].kind;
            *link = ranges[i].base_link + (id - ranges[i].first);
            return 1;
        }
    return 0;
}

static unsigned long long link_counter(const fake_link *l, int kind) {
    switch (kind) {
    case LINK_FLIT: return l->crc_flit;
    case LINK_DATA: return l->crc_data;
    case LINK_REPLAY: return l->replay;
    case LINK_RECOVERY: return l->recovery;
    default: return l->ecc_data;
    }
}

static unsigned long long link_total(const gpu_cfg *g, int kind) {
    unsigned long long sum = 0;
    for (unsigned int l = 0; l < g->nvlinks; l++)
        sum += link_counter(&g->link[l], kind);
    return sum;
}

/* The valueType a real driver reports for the ids the fake serves (-1: not served). */
static int field_type(unsigned int id) {
    int kind;
    unsigned int link;
    if (link_field(id, &kind, &link))
        return ULL;
    switch (id) {
    case 1: case 2: case 31: case 82: case 91: case 92: case 93: case 94: case 95:
    case 142: case 143: case 144: case 145:
    case 185: case 186: case 187: case 188: case 189: case 190: case 192:
    case 193: case 194: case 195: case 196: case 230:
        return UINT;
    case 3: case 4: case 5: case 6: case 29: case 30: case 38: case 45: case 52: case 59:
    case 74: case 75: case 76: case 77: case 78: case 79: case 80: case 81:
    case 83: case 138: case 139: case 140: case 141: case 160: case 191:
        return ULL;
    default:
        return -1;
    }
}

static nvmlReturn_t field_value(const call_ctx *c, unsigned int id, unsigned int scope, unsigned long long *v) {
    const gpu_cfg *g = c->g;
    int kind;
    unsigned int link;
    for (unsigned int i = 0; i < g->n_unsupported_fields; i++)
        if (g->unsupported_field[i] == id)
            return (nvmlReturn_t) g->field_error_code[i];
    for (unsigned int i = 0; i < g->n_fields; i++)
        if (g->field[i].id == id) {
            *v = g->field[i].value;
            return NVML_SUCCESS;
        }
    if (link_field(id, &kind, &link)) {
        if (link >= g->nvlinks)
            return NVML_ERROR_NOT_SUPPORTED;
        *v = link_counter(&g->link[link], kind);
        return NVML_SUCCESS;
    }
    if (id >= 185 && id <= 192 && scope != 0)
        return NVML_ERROR_NOT_SUPPORTED; /* scope 1 (module) exists only on Grace Hopper boards */
    switch (id) {
    case 1: *v = g->ecc_mode; break;
    case 2: *v = g->ecc_pending; break;
    case 3: case 4: case 5: case 6:
        if (!g->ecc_mode)
            return NVML_ERROR_NOT_SUPPORTED;
        *v = fake_ecc(c, (int) id - 3); /* SBE_VOL, DBE_VOL, SBE_AGG, DBE_AGG */
        break;
    case 29: *v = g->retired_sbe; break;
    case 30: *v = g->retired_dbe; break;
    case 31: case 92: case 93: *v = g->retired_pending; break;
    case 38: *v = link_total(g, LINK_FLIT); break;
    case 45: *v = link_total(g, LINK_DATA); break;
    case 52: *v = link_total(g, LINK_REPLAY); break;
    case 59: *v = link_total(g, LINK_RECOVERY); break;
    case 160: *v = link_total(g, LINK_ECC); break;
    case 74: case 75: case 76: case 77: case 78: case 79: case 80: case 81: *v = 0; break; /* ns throttled */
    case 82: *v = g->mem_temp; break;
    case 83: case 191: *v = fake_energy_mj(c); break;
    case 91: *v = g->nvlinks; break;
    case 94: *v = g->pcie_replay; break;
    case 95: *v = 0; break;
    case 138: case 139: case 140: case 141: {
        /* Raw counts equal data counts: the fake models no protocol overhead. */
        unsigned long long total = (id == 138 || id == 140) ? g->nvlink_tx_kib : g->nvlink_rx_kib;
        if (scope == SCOPE_ALL_LINKS)
            *v = total;
        else if (scope < g->nvlinks)
            *v = total / g->nvlinks; /* an equal share per link */
        else
            return NVML_ERROR_NOT_SUPPORTED;
        break;
    }
    case 142: case 143: case 144: case 145:
        if (g->mig_mode)
            return NVML_ERROR_NOT_SUPPORTED;
        *v = id == 142 ? g->remap_correctable : id == 143 ? g->remap_uncorrectable
           : id == 144 ? g->remap_pending : g->remap_failure;
        break;
    case 185: case 186: *v = g->power_mw; break;
    case 187: *v = g->power_min_limit_mw; break;
    case 188: *v = g->power_max_limit_mw; break;
    case 189: *v = g->power_default_limit_mw; break;
    case 190: case 192: *v = fake_power_limit(c); break;
    case 193: *v = g->temp_shutdown; break;
    case 194: *v = g->temp_slowdown; break;
    case 195: *v = g->temp_mem_max; break;
    case 196: *v = g->temp_gpu_max; break;
    case 230: *v = g->recovery_action; break;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount, nvmlFieldValue_t *values) {
    DEVICE_BEGIN(nvmlDeviceGetFieldValues, device, 0);
    if (!values || valuesCount <= 0)
        DONE(NVML_ERROR_INVALID_ARGUMENT);
    long long now = fake_epoch_us();
    for (int i = 0; i < valuesCount; i++) {
        nvmlFieldValue_t *f = &values[i];
        unsigned long long v = 0;
        int type = field_type(f->fieldId);
        /* An id newer than the driver is unknown to it: INVALID_ARGUMENT in its entry, not NOT_SUPPORTED. */
        nvmlReturn_t rc = f->fieldId > fake_fields_max(c_.s) ? NVML_ERROR_INVALID_ARGUMENT
                                                        : field_value(&c_, f->fieldId, f->scopeId, &v);
        memset(&f->value, 0, sizeof(f->value));
        f->timestamp = now;
        f->latencyUsec = 0;
        f->nvmlReturn = rc;
        f->valueType = type < 0 ? ULL : (nvmlValueType_t) type;
        if (rc != NVML_SUCCESS)
            continue;
        if (f->valueType == UINT)
            f->value.uiVal = (unsigned int) v;
        else
            f->value.ullVal = v;
    }
    DONE(NVML_SUCCESS);
}
