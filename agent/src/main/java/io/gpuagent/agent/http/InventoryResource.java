package io.gpuagent.agent.http;

import io.gpuagent.agent.lease.Inventory;
import io.gpuagent.agent.lease.InventorySource;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** {@code GET /v1/inventory} (open): the node's GPUs, health, cordons, leases and topology for placement. */
@Path("/v1/inventory")
@Produces(MediaType.APPLICATION_JSON)
public class InventoryResource {

    private final InventorySource source;

    public InventoryResource(InventorySource source) {
        this.source = source;
    }

    @GET
    public Inventory inventory() {
        return source.inventory();
    }
}
