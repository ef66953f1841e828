# Writes OUTPUT, a C++ source that holds the files FILES (comma-separated, relative to BASE) as
# raw string literals, so that `abtool demo` carries the example project inside the binary and
# works from any directory. Run by both builds: CMake (src/CMakeLists.txt) and Meson
# (src/meson.build), as `cmake -DOUTPUT=... -DBASE=... -DFILES=a,b -P embed_files.cmake`.
string(REPLACE "," ";" files "${FILES}")
set(text "// Generated from examples/pubsub by cmake/embed_files.cmake: do not edit.\n")
string(APPEND text "#include \"src/commands/example_files.hpp\"\n\nnamespace abtool {\n\n")
string(APPEND text "const std::vector<EmbeddedFile>& example_files() {\n")
string(APPEND text "    static const std::vector<EmbeddedFile> files = {\n")
foreach(name IN LISTS files)
  file(READ "${BASE}/${name}" content)
  string(FIND "${content}" ")abtool_embed\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${BASE}/${name} contains the raw-string delimiter )abtool_embed\"")
  endif()
  string(APPEND text "        {\"${name}\", R\"abtool_embed(${content})abtool_embed\"},\n")
endforeach()
string(APPEND text "    };\n    return files;\n}\n\n} // namespace abtool\n")
file(WRITE "${OUTPUT}.tmp" "${text}")
# Only a changed text touches OUTPUT, so an unchanged example rebuilds nothing.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
