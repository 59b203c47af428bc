# Turns text files (SQL migrations, web assets) into a C++ source holding them as string literals, so the
# binaries carry what they need and run from any working directory.
#   dpost_embed(OUTPUT file.cpp NAMESPACE ns FUNCTION fn FILES a b c)
# generates `std::span<const dpost::EmbeddedFile> ns::fn()` with {name, text} in the order given.
function(dpost_embed)
  cmake_parse_arguments(E "" "OUTPUT;NAMESPACE;FUNCTION" "FILES" ${ARGN})
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} -DNAMESPACE=${E_NAMESPACE} -DFUNCTION=${E_FUNCTION}
            "-DFILES=${E_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${E_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding ${E_FUNCTION}"
    VERBATIM)
endfunction()
