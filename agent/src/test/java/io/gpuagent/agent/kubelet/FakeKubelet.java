package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesRequest;
import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.CDIDevice;
import io.gpuagent.agent.kubelet.podresources.ClaimResource;
import io.gpuagent.agent.kubelet.podresources.ContainerDevices;
import io.gpuagent.agent.kubelet.podresources.ContainerResources;
import io.gpuagent.agent.kubelet.podresources.DynamicResource;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesRequest;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.PodResourcesListerGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A kubelet's pod-resources API for tests: a real grpc-java server (the shaded Netty's epoll transport) on a unix
 * socket, serving the same {@code v1.PodResourcesLister} as the kubelet, scripted per test with {@link #answer},
 * {@link #hang} or {@link #huge}; {@code GetAllocatableResources} answers what {@link #offer} set, and UNIMPLEMENTED
 * before (as a kubelet without the call does). {@link #stop} removes the socket as a stopped kubelet leaves none;
 * {@link #start} after it makes a new socket file (a new inode), as a restarted kubelet does.
 */
public final class FakeKubelet implements AutoCloseable {

    private sealed interface Script permits Answer, Hang, Huge { }

    private record Answer(ListPodResourcesResponse response) implements Script { }

    private record Hang() implements Script { }

    private record Huge(ListPodResourcesResponse response) implements Script { }

    private final Path socket;
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger allocatableCalls = new AtomicInteger();
    private volatile AllocatableResourcesResponse offered;
    private final List<StreamObserver<ListPodResourcesResponse>> hung = new CopyOnWriteArrayList<>();
    private volatile Script script = new Answer(ListPodResourcesResponse.getDefaultInstance());
    private EventLoopGroup loop;
    private Server server;

    /** A kubelet that will listen on {@code socket}; not started. */
    public FakeKubelet(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /** Listens on a new socket file at {@link #socket()}. */
    public synchronized FakeKubelet start() {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        try {
            Files.createDirectories(socket.getParent());
            Files.deleteIfExists(socket);
            loop = new EpollEventLoopGroup(1, new DefaultThreadFactory("fake-kubelet", true));
            server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(loop)
                    .workerEventLoopGroup(loop)
                    .directExecutor()
                    .addService(new Lister())
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Stops serving and removes the socket file. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        hung.clear();   // shutdownNow cancels their calls
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        server = null;
        loop = null;
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A kubelet restart: the old socket goes, a new one (another inode) comes at the same path. */
    public void restart() {
        stop();
        start();
    }

    /** From now on, {@code List} answers this. */
    public FakeKubelet answer(ListPodResourcesResponse response) {
        script = new Answer(response);
        return this;
    }

    /** From now on, {@code List} never answers (the caller's deadline ends it). */
    public FakeKubelet hang() {
        script = new Hang();
        return this;
    }

    /**
     * From now on, {@code List} answers about {@code megabytes} MiB of pods, built here once so that a call is not
     * slowed by building it (the client must refuse it by its size, not by its deadline).
     */
    public FakeKubelet huge(int megabytes) {
        script = new Huge(hugeAnswer(megabytes));
        return this;
    }

    /** From now on, {@code GetAllocatableResources} answers {@code devices} (null: UNIMPLEMENTED). */
    public FakeKubelet offer(AllocatableResourcesResponse devices) {
        offered = devices;
        return this;
    }

    /** How many {@code GetAllocatableResources} calls arrived. */
    public int allocatableCalls() {
        return allocatableCalls.get();
    }

    /** How many {@code List} calls arrived. */
    public int calls() {
        return calls.get();
    }

    @Override
    public void close() {
        stop();
    }

    private final class Lister extends PodResourcesListerGrpc.PodResourcesListerImplBase {
        @Override
        public void getAllocatableResources(AllocatableResourcesRequest request,
                                            StreamObserver<AllocatableResourcesResponse> observer) {
            allocatableCalls.incrementAndGet();
            AllocatableResourcesResponse devices = offered;
            if (devices == null) {
                observer.onError(Status.UNIMPLEMENTED.withDescription("unknown method GetAllocatableResources")
                        .asRuntimeException());
                return;
            }
            observer.onNext(devices);
            observer.onCompleted();
        }

        @Override
        public void list(ListPodResourcesRequest request, StreamObserver<ListPodResourcesResponse> observer) {
            calls.incrementAndGet();
            switch (script) {
                case Answer a -> {
                    observer.onNext(a.response());
                    observer.onCompleted();
                }
                case Hang h -> hung.add(observer);
                case Huge h -> {
                    observer.onNext(h.response());
                    observer.onCompleted();
                }
            }
        }
    }

    /** {@code megabytes} pods, each with a name of 1 MiB: an answer the size limit must refuse. */
    static ListPodResourcesResponse hugeAnswer(int megabytes) {
        String name = "p".repeat(1 << 20);
        ListPodResourcesResponse.Builder answer = ListPodResourcesResponse.newBuilder();
        for (int i = 0; i < megabytes; i++) {
            answer.addPodResources(io.gpuagent.agent.kubelet.podresources.PodResources.newBuilder()
                    .setNamespace("default").setName(name));
        }
        return answer.build();
    }

    // Answers, built as the kubelet builds them.

    /** Allocatable devices: {@code ids} of the extended resource {@code resource}. */
    public static AllocatableResourcesResponse allocatable(String resource, String... ids) {
        return AllocatableResourcesResponse.newBuilder()
                .addDevices(ContainerDevices.newBuilder().setResourceName(resource).addAllDeviceIds(List.of(ids)))
                .build();
    }

    public static ListPodResourcesResponse pods(io.gpuagent.agent.kubelet.podresources.PodResources... pods) {
        return ListPodResourcesResponse.newBuilder().addAllPodResources(List.of(pods)).build();
    }

    public static io.gpuagent.agent.kubelet.podresources.PodResources pod(String namespace, String name,
                                                                           ContainerResources... containers) {
        return io.gpuagent.agent.kubelet.podresources.PodResources.newBuilder()
                .setNamespace(namespace).setName(name).addAllContainers(List.of(containers)).build();
    }

    /** A container given device-plugin devices {@code ids} of {@code resource}. */
    public static ContainerResources container(String name, String resource, String... ids) {
        return ContainerResources.newBuilder().setName(name)
                .addDevices(ContainerDevices.newBuilder().setResourceName(resource).addAllDeviceIds(List.of(ids)))
                .build();
    }

    /** A container holding one DRA claim with one device of {@code driver}, named {@code device} in pool node-1. */
    public static ContainerResources claim(String name, String driver, String device, String... cdiDevices) {
        ClaimResource.Builder resource = ClaimResource.newBuilder().setDriverName(driver).setPoolName("node-1")
                .setDeviceName(device);
        for (String cdi : cdiDevices) {
            resource.addCdiDevices(CDIDevice.newBuilder().setName(cdi));
        }
        return ContainerResources.newBuilder().setName(name)
                .addDynamicResources(DynamicResource.newBuilder().setClaimName(name + "-gpu")
                        .setClaimNamespace("default").addClaimResources(resource))
                .build();
    }
}
