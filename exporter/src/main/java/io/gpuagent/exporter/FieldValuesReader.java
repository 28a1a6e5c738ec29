package io.gpuagent.exporter;

import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.FieldValue;
import io.gpuagent.nvml.NvmlReturn;
import java.util.ArrayList;
import java.util.List;

/**
 * Every field-backed reading (ECC, retired pages, remapped rows, memory temperature, energy, NVLink error
 * totals and throughput, power limits, violation times, PCIe replay, recovery action) in ONE
 * {@code nvmlDeviceGetFieldValues} call per GPU and read: the driver serves fields of one group from one
 * internal query, which is what batching is for. Each entry has its own return code:
 * NOT_SUPPORTED, and INVALID_ARGUMENT (a field id the driver is too old to know), make that reading absent;
 * GPU_IS_LOST ends the read; other codes are counted as {@code nvmlDeviceGetFieldValues} errors.
 * Also derives {@link Reading#NVLINK_BANDWIDTH_TOTAL_KIB} from the TX and RX throughput fields.
 */
final class FieldValuesReader implements GpuReader {
    private static final List<Reading> FIELD_READINGS = fieldReadings();

    private static List<Reading> fieldReadings() {
        List<Reading> list = new ArrayList<>();
        for (Reading r : Reading.values()) {
            if (r.source() instanceof Reading.Source.Field) {
                list.add(r);
            }
        }
        return List.copyOf(list);
    }

    @Override
    public void read(ReadContext ctx) {
        boolean bandwidth = ctx.wants(Reading.NVLINK_BANDWIDTH_TOTAL_KIB);
        List<Reading> asked = new ArrayList<>(FIELD_READINGS.size());
        List<FieldRequest> requests = new ArrayList<>(FIELD_READINGS.size());
        for (Reading r : FIELD_READINGS) {
            boolean needed = ctx.wants(r) || bandwidth && (r == Reading.NVLINK_DATA_TX_KIB || r == Reading.NVLINK_DATA_RX_KIB)
                    && ctx.state.reads >= ctx.state.retryAt[r.ordinal()];
            if (needed) {
                Reading.Source.Field f = (Reading.Source.Field) r.source();
                asked.add(r);
                requests.add(new FieldRequest(f.fieldId(), f.scopeId()));
            }
        }
        if (!requests.isEmpty()) {
            Reading[] fills = asked.toArray(Reading[]::new);
            List<FieldValue> answers = ctx.call("nvmlDeviceGetFieldValues", () -> ctx.device.fieldValues(requests), fills);
            if (answers != null) {
                store(ctx, asked, answers);
            }
        }
        if (bandwidth) {
            double tx = ctx.get(Reading.NVLINK_DATA_TX_KIB);
            double rx = ctx.get(Reading.NVLINK_DATA_RX_KIB);
            if (!Double.isNaN(tx) && !Double.isNaN(rx)) {
                ctx.set(Reading.NVLINK_BANDWIDTH_TOTAL_KIB, tx + rx);
            } else if (ctx.state.retryAt[Reading.NVLINK_DATA_TX_KIB.ordinal()] > ctx.state.reads
                    || ctx.state.retryAt[Reading.NVLINK_DATA_RX_KIB.ordinal()] > ctx.state.reads) {
                ctx.unsupported(Reading.NVLINK_BANDWIDTH_TOTAL_KIB);
            }
        }
    }

    private static void store(ReadContext ctx, List<Reading> asked, List<FieldValue> answers) {
        for (int i = 0; i < asked.size() && i < answers.size(); i++) {
            Reading r = asked.get(i);
            FieldValue v = answers.get(i);
            Reading.Source.Field f = (Reading.Source.Field) r.source();
            if (v.fieldId() != f.fieldId()) {
                continue; // the bindings keep request order; never trust a mismatched entry
            }
            int code = v.returnCode();
            if (v.ok()) {
                ctx.set(r, v.asDouble() * f.scale());
            } else if (code == NvmlReturn.NOT_SUPPORTED.code() || code == NvmlReturn.INVALID_ARGUMENT.code()
                    || code == NvmlReturn.FUNCTION_NOT_FOUND.code() || code == NvmlReturn.DEPRECATED.code()) {
                ctx.unsupported(r);
            } else if (code == NvmlReturn.GPU_IS_LOST.code()) {
                ctx.meters.nvmlError("nvmlDeviceGetFieldValues", code);
                throw new ReadContext.GpuLostException("nvmlDeviceGetFieldValues field " + f.fieldId() + " returned GPU_IS_LOST");
            } else {
                ctx.meters.nvmlError("nvmlDeviceGetFieldValues", code);
            }
        }
    }
}
