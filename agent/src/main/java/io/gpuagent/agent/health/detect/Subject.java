package io.gpuagent.agent.health.detect;

import java.util.Locale;

/**
 * What a finding is about: the node, one GPU, one InfiniBand/RoCE port or one NVLink link. Node-level detectors
 * key their history by {@link #key()} as GPU detectors key theirs by UUID, so a port that flaps and a GPU that
 * overheats keep apart, and two ports down are two reasons.
 *
 * @param kind what sort of thing
 * @param id   its name: empty for the node, a GPU UUID, {@code mlx5_0/1} for a port, {@code GPU-.../3} for a link
 */
public record Subject(Kind kind, String id) {

    public enum Kind {
        NODE, GPU, IB_PORT, NVLINK;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Subject NODE = new Subject(Kind.NODE, "");

    public Subject {
        id = id == null ? "" : id;
    }

    public static Subject gpu(String uuid) {
        return new Subject(Kind.GPU, uuid);
    }

    public static Subject ibPort(String device, int port) {
        return new Subject(Kind.IB_PORT, device + '/' + port);
    }

    public static Subject nvLink(String uuid, int link) {
        return new Subject(Kind.NVLINK, uuid + '/' + link);
    }

    /** {@code node}, {@code gpu:GPU-...}, {@code ib_port:mlx5_0/1}: unique, stable, a history key. */
    public String key() {
        return id.isEmpty() ? kind.label() : kind.label() + ':' + id;
    }

    @Override
    public String toString() {
        return key();
    }
}
