package io.gpuagent.agent.health;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Quarkus' {@code /q/health/ready} for process supervision: ready when the node check passes. Liveness
 * stays Quarkus' own (the process answers), so a GPU fault never gets the agent restarted.
 */
@Readiness
@ApplicationScoped
public class QuarkusHealthChecks implements HealthCheck {

    private final HealthModel health;

    public QuarkusHealthChecks(HealthModel health) {
        this.health = health;
    }

    @Override
    public HealthCheckResponse call() {
        HealthReport report = health.report();
        return HealthCheckResponse.named("gpu-agent").status(report.healthy())
                .withData("status", report.status())
                .withData("reason", report.reason() == null ? "" : report.reason())
                .build();
    }
}
