package io.gpuagent.agent.lease;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** Stand-in until the lease book lands: no GPU is ever leased. Replaced by any other {@link GpuLeases} bean. */
@DefaultBean
@ApplicationScoped
public class NoLeases implements GpuLeases {

    @Override
    public Optional<Held> leaseOn(String uuid) {
        return Optional.empty();
    }

    @Override
    public int endLeasesOn(String uuid, String reason) {
        return 0;
    }
}
