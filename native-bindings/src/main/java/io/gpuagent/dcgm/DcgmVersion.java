package io.gpuagent.dcgm;

/** {@code dcgmVersionInfo}: the library's version and its raw build string ({@code key:value;...}). */
public record DcgmVersion(int major, int minor, int patch, String raw) {

    public boolean atLeast(int major, int minor) {
        return this.major > major || (this.major == major && this.minor >= minor);
    }

    /** Parses the {@code version:} key of the build string. */
    public static DcgmVersion parse(String raw) {
        for (String part : raw.split(";")) {
            if (part.startsWith("version:")) {
                String[] v = part.substring(8).split("\\.");
                try {
                    return new DcgmVersion(Integer.parseInt(v[0]), v.length > 1 ? Integer.parseInt(v[1]) : 0,
                            v.length > 2 ? Integer.parseInt(v[2].replaceAll("[^0-9].*", "")) : 0, raw);
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        throw new DcgmException(DcgmReturn.GENERIC_ERROR.code(), "dcgmVersionInfo", "no version in '" + raw + "'");
    }
}
