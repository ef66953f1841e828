set(ABTOOL_PUBLISH_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/publish_runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load_generator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/soak.cpp)
