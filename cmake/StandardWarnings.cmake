# Warnings for abtool's own targets only (never for dependencies' headers, which come in as SYSTEM).
add_library(abtool_warnings INTERFACE)
target_compile_options(abtool_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(ABTOOL_WARNINGS_AS_ERRORS)
  target_compile_options(abtool_warnings INTERFACE -Werror)
endif()
