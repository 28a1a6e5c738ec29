package io.gpuagent.dcgm;

/** A field value by its DCGM type ({@code DCGM_FT_*}); DCGM's blank sentinels become {@link Blank}. */
public sealed interface FieldData {
    record Int(long value) implements FieldData {
    }

    record Dbl(double value) implements FieldData {
    }

    record Str(String value) implements FieldData {
    }

    /** No value: not watched, no sample yet, a blank sentinel, or a type the bindings do not read (blobs). */
    record Blank(char type) implements FieldData {
    }
}
