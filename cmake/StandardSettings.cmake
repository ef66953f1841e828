# Settings every abtool target shares, as one INTERFACE target (ccache's StandardSettings.cmake).
add_library(abtool_settings INTERFACE)
target_compile_features(abtool_settings INTERFACE cxx_std_20)

if(ABTOOL_ENABLE_SANITIZER_ADDRESS)
  target_compile_options(abtool_settings INTERFACE -fsanitize=address -fno-omit-frame-pointer)
  target_link_options(abtool_settings INTERFACE -fsanitize=address)
endif()
if(ABTOOL_ENABLE_SANITIZER_UNDEFINED)
  target_compile_options(abtool_settings INTERFACE -fsanitize=undefined -fno-sanitize-recover=undefined)
  target_link_options(abtool_settings INTERFACE -fsanitize=undefined)
endif()
