package io.gpuagent.nvml.ffm;

import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * One dlopened NVML and the symbols the handle tables bind from it. Tables ask for each symbol by name
 * and descriptor: required ones fail the open, optional ones come back null (the call then answers
 * FUNCTION_NOT_FOUND, which {@code NvmlException.notSupported()} counts as a missing capability).
 *
 * <p>No handle uses {@code Linker.Option.critical}: any NVML call can hang on a sick GPU (the fake's
 * {@code latency_ms} simulates it), and a critical call would hold off every GC safepoint meanwhile.
 */
public final class NvmlLibrary {

    /** A symbol some table binds; {@code fallback} is the older symbol used when this one is missing. */
    public record BoundSymbol(String name, boolean optional, String fallback) {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile List<BoundSymbol> boundSymbols;
    private static volatile List<FunctionDescriptor> boundDescriptors;

    private final String library;
    private final SymbolLookup lookup;
    private final List<BoundSymbol> bound = new ArrayList<>();
    private final List<FunctionDescriptor> descriptors = new ArrayList<>();

    private NvmlLibrary(String library, SymbolLookup lookup) {
        this.library = library;
        this.lookup = lookup;
    }

    /**
     * dlopens {@code library}: a file path when it contains a '/', else a soname searched the way dlopen
     * does. The library stays loaded for the life of the JVM (global arena): unloading a driver library
     * that may still run threads, or whose handles another thread is calling, is not safe.
     */
    static NvmlLibrary open(String library) {
        try {
            SymbolLookup lookup = library.contains("/")
                    ? SymbolLookup.libraryLookup(Path.of(library).toAbsolutePath(), Arena.global())
                    : SymbolLookup.libraryLookup(library, Arena.global());
            return new NvmlLibrary(library, lookup);
        } catch (IllegalArgumentException e) {
            throw new NvmlException(NvmlReturn.LIBRARY_NOT_FOUND.code(), "dlopen", "cannot load " + library
                    + " (" + e.getMessage() + "); install the NVIDIA driver, or set gpu-agent.nvml.library to the"
                    + " path of libnvidia-ml.so.1");
        }
    }

    String name() {
        return library;
    }

    /** A symbol every supported driver exports; missing fails the open. */
    MethodHandle required(String name, FunctionDescriptor descriptor) {
        bound.add(new BoundSymbol(name, false, null));
        descriptors.add(descriptor);
        return find(name).map(address -> LINKER.downcallHandle(address, descriptor))
                .orElseThrow(() -> new NvmlException(NvmlReturn.FUNCTION_NOT_FOUND.code(), name,
                        library + " does not export " + name + "; the NVIDIA driver is too old for gpu-agent"));
    }

    /** A capability (e.g. GPM) or a fallback target: null when this driver lacks it. */
    MethodHandle optional(String name, FunctionDescriptor descriptor) {
        return optional(name, null, descriptor);
    }

    /** A newer symbol with an older {@code fallback} the caller binds too: null when this driver lacks it. */
    MethodHandle optional(String name, String fallback, FunctionDescriptor descriptor) {
        bound.add(new BoundSymbol(name, true, fallback));
        descriptors.add(descriptor);
        return find(name).map(address -> LINKER.downcallHandle(address, descriptor)).orElse(null);
    }

    /** Fails the open when neither a symbol nor its fallback exists (both were bound as optional). */
    void requireEither(MethodHandle newer, MethodHandle older, String newerName, String olderName) {
        if (newer == null && older == null) {
            throw new NvmlException(NvmlReturn.FUNCTION_NOT_FOUND.code(), newerName,
                    library + " exports neither " + newerName + " nor " + olderName);
        }
    }

    private Optional<MemorySegment> find(String name) {
        return lookup.find(name);
    }

    /**
     * Every symbol any handle table binds, with its optional flag and fallback: the list the symbol checks
     * compare with a driver's export table. Built by binding all tables against a lookup that finds
     * everything, so it cannot drift from what the tables really bind.
     */
    public static List<BoundSymbol> boundSymbols() {
        List<BoundSymbol> symbols = boundSymbols;
        if (symbols == null) {
            record();
            symbols = boundSymbols;
        }
        return symbols;
    }

    /**
     * The function descriptor of every symbol in {@link #boundSymbols()}, in the same order: what a native
     * image must register for downcalls (META-INF/native-image/.../reachability-metadata.json, checked
     * against this list by ForeignConfigTest).
     */
    public static List<FunctionDescriptor> boundDescriptors() {
        List<FunctionDescriptor> d = boundDescriptors;
        if (d == null) {
            record();
            d = boundDescriptors;
        }
        return d;
    }

    private static synchronized void record() {
        if (boundSymbols == null) {
            MemorySegment anywhere = MemorySegment.ofAddress(1);
            NvmlLibrary recorder = new NvmlLibrary("(symbol list)", name -> Optional.of(anywhere));
            new Functions(recorder);
            boundDescriptors = Collections.unmodifiableList(new ArrayList<>(recorder.descriptors));
            boundSymbols = Collections.unmodifiableList(new ArrayList<>(recorder.bound));
        }
    }
}
