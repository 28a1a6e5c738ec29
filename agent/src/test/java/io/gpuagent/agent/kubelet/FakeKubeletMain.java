package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.PodResources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * The {@link FakeKubelet} as its own process, for agent/bench/run-all.sh --kubelet:
 * {@code FakeKubeletMain <socket> <normal|hang|big> <gpus>}.
 *
 * <p>It starts answering as a kubelet of a node whose {@code <gpus>} GPUs (the fake NVML driver's default UUIDs,
 * native-bindings/src/main/c/scenario.c) are held by one pod each: pod {@code bench-N} in namespace {@code bench},
 * container {@code work}. In {@code hang} and {@code big} mode a SIGHUP turns it bad: every later call hangs, or is
 * answered with about 100 MiB. The bench sends it once a scrape shows the pod labels, so the agent holds a good map
 * when the bad phase begins (a call count would not: the agent's first calls may come before its first GPU reading,
 * and then their answer is not used). It runs until killed.
 */
public final class FakeKubeletMain {

    private FakeKubeletMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: FakeKubeletMain <socket> <normal|hang|big> <gpus>");
            System.exit(2);
        }
        Path socket = Path.of(args[0]);
        String mode = args[1].toLowerCase(Locale.ROOT);
        if (!List.of("normal", "hang", "big").contains(mode)) {
            System.err.println("fake kubelet: mode must be normal, hang or big, not " + args[1]);
            System.exit(2);
        }
        int gpus;
        try {
            gpus = Integer.parseInt(args[2]);
        } catch (NumberFormatException e) {
            gpus = -1;
        }
        if (gpus < 1 || gpus > 0xffff) {
            System.err.println("fake kubelet: <gpus> must be a number from 1 to 65535, not " + args[2]);
            System.exit(2);
        }

        FakeKubelet kubelet = new FakeKubelet(socket).answer(onePodPerGpu(gpus)).offer(everyGpu(gpus)).start();
        System.out.printf("fake kubelet: listening on %s, %d GPUs held by pods bench-0..bench-%d (%s)%n",
                socket, gpus, gpus - 1, mode);
        if (!mode.equals("normal")) {
            Signal.handle(new Signal("HUP"), signal -> {
                if (mode.equals("hang")) {
                    kubelet.hang();
                } else {
                    kubelet.huge(100);
                }
                System.out.printf("fake kubelet: after %d calls, every call now %s%n", kubelet.calls(),
                        mode.equals("hang") ? "hangs" : "is answered with about 100 MiB");
            });
        }
        new CountDownLatch(1).await();   // the server's threads are daemons: wait here until killed
    }

    /** GPU i holds pod bench-i; the UUIDs are those the fake NVML driver gives GPU i by default. */
    static ListPodResourcesResponse onePodPerGpu(int gpus) {
        List<PodResources> pods = new ArrayList<>(gpus);
        for (int i = 0; i < gpus; i++) {
            pods.add(FakeKubelet.pod("bench", "bench-" + i, FakeKubelet.container("work", "nvidia.com/gpu", uuid(i))));
        }
        return ListPodResourcesResponse.newBuilder().addAllPodResources(pods).build();
    }

    /** Every GPU offered for allocation, as the device plugin registers healthy GPUs. */
    static AllocatableResourcesResponse everyGpu(int gpus) {
        String[] ids = new String[gpus];
        for (int i = 0; i < gpus; i++) {
            ids[i] = uuid(i);
        }
        return FakeKubelet.allocatable("nvidia.com/gpu", ids);
    }

    private static String uuid(int gpu) {
        return String.format("GPU-8a4e6f10-%04x-4c2b-9d3e-5f7a1b2c3d4e", gpu);
    }
}
