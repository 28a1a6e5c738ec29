package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import jakarta.ws.rs.WebApplicationException;
import java.util.Optional;

/** A GPU named in a path: its index ({@code 0}) or its UUID ({@code GPU-...}). */
public record GpuId(Integer index, String uuid) {

    public static GpuId parse(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new WebApplicationException(Problem.badRequest("a GPU index (0, 1, ...) or UUID (GPU-...) is required"));
        }
        if (raw.chars().allMatch(Character::isDigit) && raw.length() <= 4) {
            return new GpuId(Integer.parseInt(raw), null);
        }
        if (raw.startsWith("GPU-") || raw.startsWith("MIG-")) {
            return new GpuId(null, raw);
        }
        throw new WebApplicationException(Problem.badRequest("'" + raw
                + "' is neither a GPU index (0, 1, ...) nor a UUID (GPU-...); list GPUs with GET /v1/gpus"));
    }

    public boolean matches(int gpuIndex, String gpuUuid) {
        return index != null ? index == gpuIndex : uuid.equals(gpuUuid);
    }

    public Optional<GpuSample> find(Snapshot snapshot) {
        return index != null ? snapshot.gpu(index) : snapshot.gpu(uuid);
    }

    public WebApplicationException notFound() {
        return new WebApplicationException(Problem.notFound("no GPU " + this + " on this host; list GPUs with GET /v1/gpus"));
    }

    @Override
    public String toString() {
        return index != null ? String.valueOf(index) : uuid;
    }
}
