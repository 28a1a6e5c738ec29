package io.gpuagent.agent.recovery;

import io.gpuagent.agent.health.HealthListener;
import io.gpuagent.agent.health.NodeJudge;
import io.gpuagent.agent.lease.Cordons;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The node checks' recovery (docs/node-health.md#recovery): when the node turns UNHEALTHY and the policy's row for
 * its worst reason cordons, every GPU is cordoned for placement (by {@value #BY}); once the node serves again, the
 * cordons it set (and only those) are lifted. In observe mode it only logs what it would do. Cordons are a map
 * update, cheap enough to do on the judging thread; they are not in the audit log, since the next node sweep after
 * a restart sets them again.
 */
final class NodeCordon implements HealthListener {

    private static final Logger LOG = Logger.getLogger(NodeCordon.class);
    static final String BY = "node-check";

    private final RecoveryPolicy policy;
    private final Cordons cordons;
    private final SamplerService sampler;
    private final RecoveryMode mode;
    private final Clock clock;

    NodeCordon(RecoveryPolicy policy, Cordons cordons, SamplerService sampler, RecoveryMode mode, Clock clock) {
        this.policy = policy;
        this.cordons = cordons;
        this.sampler = sampler;
        this.mode = mode;
        this.clock = clock;
    }

    @Override
    public void onChange(io.gpuagent.agent.health.HealthEngine.Change change) {
    }

    @Override
    public void onNodeChange(NodeJudge.Change change) {
        List<String> uuids = sampler.latest().gpus().stream().filter(g -> g.info().known()).map(GpuSample::uuid).toList();
        if (change.node().state().serving()) {
            int lifted = 0;
            for (var c : cordons.all()) {
                if (c.by().equals(BY) && cordons.uncordon(c.uuid())) {
                    lifted++;
                }
            }
            if (lifted > 0) {
                LOG.infof("node serves again (%s): uncordoned the %d GPU(s) the node checks had cordoned",
                        change.node().state(), lifted);
            }
            return;
        }
        Optional<RecoveryPolicy.Plan> plan = policy.planFor(change.node());
        if (plan.isEmpty() || !plan.get().steps().contains(Step.CORDON)) {
            return;
        }
        if (mode == RecoveryMode.OBSERVE) {
            LOG.warnf("observe mode: would cordon all %d GPUs for %s (set gpu-agent.recovery.mode=enforce to act)",
                    uuids.size(), plan.get().why());
            return;
        }
        for (String uuid : uuids) {
            cordons.cordon(uuid, BY, plan.get().why(), clock.instant());
        }
        LOG.warnf("cordoned all %d GPUs for placement: %s; uncordoned once the node checks pass", uuids.size(),
                plan.get().why());
    }
}
