/* Placeholder translation unit until the fake driver lands. */
int fake_nvml_placeholder;
