package io.gpuagent.agent;

import io.gpuagent.exporter.DcgmSettings;
import io.gpuagent.exporter.DefaultSet;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Every {@code gpu-agent.*} key. docs/configuration.md documents them for operators. */
@ConfigMapping(prefix = "gpu-agent")
public interface AgentConfig {

    Nvml nvml();

    Dcgm dcgm();

    /** How often the sampler sweeps every GPU. */
    @WithDefault("1s")
    Duration sampleInterval();

    /**
     * How long a sweep waits for one GPU's readings. A GPU still inside NVML after this keeps its previous
     * readings, marked stale, and the other GPUs are published on time.
     */
    @WithDefault("800ms")
    Duration gpuDeadline();

    /** Where state that must survive a restart lives (event history, action audit, leases). */
    @WithDefault("/var/lib/gpu-agent")
    Path stateDir();

    /** A dcgm-exporter counters CSV choosing the GPU metrics to export; absent: {@link Metrics#defaultSet()}. */
    Optional<Path> countersFile();

    Metrics metrics();

    /** The value of the host label on GPU series; absent: this machine's host name. */
    Optional<String> hostname();

    /** Name of the host label: {@code Hostname} (dcgm-exporter before 4.x, the default) or {@code hostname}. */
    @WithDefault("Hostname")
    String hostnameLabel();

    interface Metrics {
        /**
         * The bundled set of GPU metrics served without a counters file: {@code legacy} (the names dcgm-exporter
         * served before 4.9; existing dashboards keep working) or {@code dcgm-exporter-4.10} (DCGM 4.7's names
         * in base units and label {@code DCGM_FI_SYSTEM_DRIVER_VERSION}, as dcgm-exporter 4.10 serves them).
         */
        @WithDefault("legacy")
        @WithConverter(DefaultSetConverter.class)
        DefaultSet defaultSet();
    }

    /** NVIDIA DCGM beside NVML (docs/dcgm.md). Off by default: then nothing of DCGM is loaded or started. */
    interface Dcgm {
        /** {@code off}, {@code embedded} (a host engine in this process) or {@code remote} (nv-hostengine). */
        @WithDefault("off")
        DcgmSettings.Mode mode();

        /** The remote host engine: {@code host:port}, {@code tcp://host:port} or {@code unix:///path}. */
        @WithDefault("localhost:5555")
        String address();

        /** A soname searched on the loader path, or a path to the library. */
        @WithDefault("libdcgm.so.4")
        String library();

        /** Where DCGM_FI_PROF_* come from: {@code auto} (DCGM where the GPU has no GPM), {@code dcgm}, {@code gpm}. */
        @WithDefault("auto")
        DcgmSettings.Profiling profiling();

        /** How long a remote connect may take. */
        @WithDefault("5s")
        Duration connectTimeout();

        /** The backoff between attempts to reach DCGM again doubles from 1 s up to this. */
        @WithDefault("30s")
        Duration reconnectMaxDelay();

        /**
         * The DCGM diagnostic the recovery verify step runs on a GPU after its reset: {@code off}, or the level
         * {@code 1} to {@code 4} ({@code dcgmi diag -r N}; 1 takes seconds, 3 and 4 many minutes). Unused when DCGM
         * is off.
         */
        @WithDefault("1")
        String verifyDiagLevel();

        /** How long the verify step waits for the diagnostic (a busy GPU is asked again until then). */
        @WithDefault("5m")
        Duration verifyDiagTimeout();
    }

    interface Nvml {
        /** A soname searched on the loader path, or a path to the library. */
        @WithDefault("libnvidia-ml.so.1")
        String library();

        /** First delay between attempts to load and initialise NVML while it is unavailable. */
        @WithDefault("1s")
        Duration retryInitialDelay();

        /** The backoff doubles up to this delay. */
        @WithDefault("60s")
        Duration retryMaxDelay();
    }
}
