# Writes the dashboard's index.html into the built folder: ui/index.html with its development
# <script> tag (/src/main.ts) replaced by the bundle esbuild made (assets/main-<hash>.js) and its
# stylesheet linked in the head.
#   cmake -DSOURCE=<ui/index.html> -DDIST=<built folder> -P ui_page.cmake
file(GLOB scripts RELATIVE ${DIST} ${DIST}/assets/main-*.js)
file(GLOB styles RELATIVE ${DIST} ${DIST}/assets/main-*.css)
list(LENGTH scripts script_count)
list(LENGTH styles style_count)
if(NOT script_count EQUAL 1 OR NOT style_count EQUAL 1)
  message(FATAL_ERROR "the dashboard's build left ${scripts} ${styles}: one script and one stylesheet expected")
endif()
file(READ ${SOURCE} page)
string(REPLACE "<script type=\"module\" src=\"/src/main.ts\"></script>"
       "<script type=\"module\" src=\"/ui/${scripts}\"></script>" page "${page}")
string(REPLACE "</head>" "  <link rel=\"stylesheet\" href=\"/ui/${styles}\" />\n  </head>" page "${page}")
if(NOT page MATCHES "/ui/assets/main-")
  message(FATAL_ERROR "${SOURCE} has no <script type=\"module\" src=\"/src/main.ts\"></script> to replace")
endif()
file(WRITE ${DIST}/index.html "${page}")
